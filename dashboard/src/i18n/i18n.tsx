import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { en, type Messages } from "./en";
import { makeFormatter, pickLocale, type Formatter, type Locale, type ZoneMode } from "./format";

export interface I18n {
  locale: Locale;
  t: Messages;
  fmt: Formatter;
  zone: ZoneMode;
  setLocale: (l: Locale) => void;
  setZone: (z: ZoneMode) => void;
}

const localeKey = "miyabi.locale";
const zoneKey = "miyabi.zone";

function stored(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}
function store(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

const fallback: I18n = {
  locale: "en",
  t: en,
  fmt: makeFormatter("en", "local"),
  zone: "local",
  setLocale: () => {},
  setZone: () => {},
};
const Ctx = createContext<I18n>(fallback);

/** useI18n answers the messages, the formatters and the user's language and time-zone choice. */
export function useI18n(): I18n {
  return useContext(Ctx);
}
/** useT answers the message catalogue of the user's language. */
export function useT(): Messages {
  return useContext(Ctx).t;
}

// Japanese loads only for people who use it: the first route's budget stays with English.
let jaMessages: Messages | null = null;
const loadJa = () => import("./ja").then((m) => (jaMessages = m.ja));

/**
 * I18nProvider follows the browser's language until the user picks one (kept in local
 * storage), and shows every time in one zone: the browser's, or UTC when toggled.
 */
export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => pickLocale(stored(localeKey), navigator.languages ?? [navigator.language]));
  const [zone, setZoneState] = useState<ZoneMode>(() => (stored(zoneKey) === "utc" ? "utc" : "local"));
  const [ja, setJa] = useState<Messages | null>(jaMessages);

  useEffect(() => {
    if (locale === "ja" && !ja) void loadJa().then(setJa, () => setLocaleState("en"));
    document.documentElement.lang = locale;
  }, [locale, ja]);

  const setLocale = useCallback((l: Locale) => {
    store(localeKey, l);
    setLocaleState(l);
  }, []);
  const setZone = useCallback((z: ZoneMode) => {
    store(zoneKey, z);
    setZoneState(z);
  }, []);

  const t = locale === "ja" ? ja : en;
  const value = useMemo<I18n | null>(
    () => (t ? { locale, t, fmt: makeFormatter(locale, zone), zone, setLocale, setZone } : null),
    [t, locale, zone, setLocale, setZone],
  );
  // The Japanese chunk is local and small: wait for it rather than flash English.
  if (!value) return null;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
