// Dates, numbers and durations per locale and per the chosen time zone. Pure functions
// (tested without a browser); the provider binds them to the user's choice.
export type Locale = "en" | "ja";
/** "local" is the browser's time zone; "utc" the toggle. */
export type ZoneMode = "local" | "utc";

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export interface Formatter {
  locale: Locale;
  timeZone: string;
  /** The label shown next to times: the zone's name, "UTC" in UTC mode. */
  zoneLabel: string;
  dateTime: (iso: string | Date) => string;
  time: (iso: string | Date) => string;
  /** A log line's time: hours, minutes, seconds and milliseconds. */
  logTime: (iso: string | Date) => string;
  /** A chart label for an hour or a day bucket. */
  bucket: (iso: string | Date, unit: "hour" | "day") => string;
  number: (n: number) => string;
  percent: (ratio: number) => string;
  relative: (iso: string | Date, now?: number) => string;
  duration: (ms: number) => string;
  /**
   * The instant (ISO 8601, UTC) a date-and-time input means in this zone: "2026-12-03T00:30"
   * is 2026-12-02T15:30:00.000Z in Asia/Tokyo. null for an empty or incomplete value.
   */
  inputToInstant: (value: string) => string | null;
}

const tag: Record<Locale, string> = { en: "en-GB", ja: "ja-JP" };

export function makeFormatter(locale: Locale, mode: ZoneMode, localZone = browserTimeZone()): Formatter {
  const timeZone = mode === "utc" ? "UTC" : localZone;
  const lt = tag[locale];
  const dt = new Intl.DateTimeFormat(lt, { timeZone, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const tm = new Intl.DateTimeFormat(lt, { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const hour = new Intl.DateTimeFormat(lt, { timeZone, hour: "2-digit", minute: "2-digit" });
  const day = new Intl.DateTimeFormat(lt, { timeZone, month: "numeric", day: "numeric" });
  const num = new Intl.NumberFormat(lt);
  const pct = new Intl.NumberFormat(lt, { style: "percent", maximumFractionDigits: 0 });
  const rel = new Intl.RelativeTimeFormat(lt, { numeric: "auto" });
  const d = (v: string | Date) => (typeof v === "string" ? new Date(v) : v);
  return {
    locale,
    timeZone,
    zoneLabel: timeZone,
    dateTime: (v) => dt.format(d(v)),
    time: (v) => tm.format(d(v)),
    logTime: (v) => {
      const x = d(v);
      return `${tm.format(x)}.${String(x.getUTCMilliseconds()).padStart(3, "0")}`;
    },
    bucket: (v, unit) => (unit === "hour" ? hour.format(d(v)) : day.format(d(v))),
    number: (n) => num.format(n),
    percent: (r) => pct.format(r),
    relative: (v, now = Date.now()) => {
      const s = Math.round((d(v).getTime() - now) / 1000);
      const a = Math.abs(s);
      if (a < 45) return rel.format(s, "second");
      if (a < 45 * 60) return rel.format(Math.round(s / 60), "minute");
      if (a < 22 * 3600) return rel.format(Math.round(s / 3600), "hour");
      return rel.format(Math.round(s / 86400), "day");
    },
    duration: (ms) => formatDuration(ms, locale),
    inputToInstant: (value) => wallTimeToInstant(value, timeZone),
  };
}

const wallTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** utcOf answers the instant of a date and time read as UTC, any year (Date.UTC maps 0-99 to 19xx). */
function utcOf(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date;
}

/** The zone's offset from UTC at an instant (ms, east positive): +9 h in Asia/Tokyo. */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  let f = offsetFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    offsetFormats.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(instant)) if (part.type !== "literal") p[part.type] = Number(part.value);
  return utcOf(p.year!, p.month!, p.day!, p.hour!, p.minute!, p.second!, 0).getTime() - Math.floor(instant / 1000) * 1000;
}

/**
 * wallTimeToInstant reads a date-and-time input's value ("YYYY-MM-DDTHH:mm", seconds
 * optional) as a wall-clock time in the IANA zone timeZone and answers the instant in
 * ISO 8601 UTC (what RFC 3339 parameters take); null when the value is empty, incomplete,
 * not a date, or its year has more than four digits. A time that a change to summer time
 * skips is read as after it (02:30 on that night is 03:30 summer time); a time the change
 * back repeats is the first of the two.
 */
export function wallTimeToInstant(value: string, timeZone: string): string | null {
  const m = wallTime.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const date = utcOf(y, mo, d, h, mi, s, m[7] ? Number(m[7].padEnd(3, "0")) : 0);
  // An impossible date (February 30th, 24:00) does not roll over into another one.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== s) return null;
  const local = date.getTime();
  // The zone's offsets a day before and a day after: the wall time is one of them (both
  // when the clocks went back through it), unless the clocks jumped over it.
  const day = 86_400_000;
  const before = zoneOffsetMs(local - day, timeZone);
  const after = zoneOffsetMs(local + day, timeZone);
  const fits = [local - before, local - after].filter((t) => zoneOffsetMs(t, timeZone) === local - t);
  if (fits.length > 0) return new Date(Math.min(...fits)).toISOString();
  // Jumped over: read with the offset before the jump, which lands as far past it.
  return new Date(local - before).toISOString();
}

const units: Record<Locale, { ms: string; s: string; min: string; h: string }> = {
  en: { ms: "ms", s: "s", min: "min", h: "h" },
  ja: { ms: "ミリ秒", s: "秒", min: "分", h: "時間" },
};

/** formatDuration: "850 ms", "12.5 s", "3 min 4 s", "2 h 5 min" (and the Japanese units). */
export function formatDuration(ms: number, locale: Locale = "en"): string {
  const u = units[locale];
  const sp = locale === "ja" ? "" : " ";
  if (ms < 1000) return `${Math.round(ms)}${sp}${u.ms}`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}${sp}${u.s}`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}${sp}${u.min} ${Math.round(s % 60)}${sp}${u.s}` : `${Math.floor(m / 60)}${sp}${u.h} ${m % 60}${sp}${u.min}`;
}

/** pickLocale follows the browser unless the user chose. */
export function pickLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === "en" || stored === "ja") return stored;
  for (const l of languages) {
    const p = l.toLowerCase().slice(0, 2);
    if (p === "ja") return "ja";
    if (p === "en") return "en";
  }
  return "en";
}
