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
  };
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
