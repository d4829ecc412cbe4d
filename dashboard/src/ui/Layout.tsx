import { useEffect, useRef, useState, type ReactNode } from "react";
import { useSession } from "../session/session";
import { Link, useLocation } from "../router/router";
import { routes } from "../routes";
import { useI18n } from "../i18n/i18n";
import { browserTimeZone, type Locale, type ZoneMode } from "../i18n/format";
import { isOnline, onOnlineChange } from "../api/connectivity";
import { OrgSwitcher } from "./OrgSwitcher";
import { useAction } from "./useApiData";

/** Preferences: the language (following the browser until chosen) and the one time zone. */
export function Preferences() {
  const { t, locale, setLocale, zone, setZone } = useI18n();
  return (
    <div className="prefs">
      <label>
        <span className="visually-hidden">{t.shell.language}</span>
        <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)} aria-label={t.shell.language}>
          <option value="en" lang="en">
            English
          </option>
          <option value="ja" lang="ja">
            日本語
          </option>
        </select>
      </label>
      <label>
        <span className="visually-hidden">{t.shell.timeZone}</span>
        <select value={zone} onChange={(e) => setZone(e.target.value as ZoneMode)} aria-label={t.shell.timeZone}>
          <option value="local">{t.shell.localTime(browserTimeZone())}</option>
          <option value="utc">{t.shell.utc}</option>
        </select>
      </label>
    </div>
  );
}

/** ReconnectBanner: one notice for an outage; pages keep their last data under it. */
function ReconnectBanner() {
  const { t } = useI18n();
  const [online, setOnline] = useState(isOnline());
  useEffect(() => onOnlineChange(setOnline), []);
  if (online) return null;
  return (
    <div className="banner" role="status">
      {t.shell.reconnecting}
    </div>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const { t } = useI18n();
  const { me } = session;
  const { path } = useLocation();
  const signOut = useAction(session.signOut);
  const [menuOpen, setMenuOpen] = useState(false);
  const nav = routes.filter((r) => r.nav && (!r.allowed || r.allowed(session)));
  const active = (p: string) => (p === "/" ? path === "/" : path === p || path.startsWith(p + "/"));
  // The most specific item is the current one (/settings/audit, not /settings as well).
  const current = nav.filter((r) => active(r.path)).sort((a, b) => b.path.length - a.path.length)[0];
  const navRef = useRef<HTMLElement>(null);

  // A navigation closes the phone menu; opening it shows the current item.
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (menuOpen) navRef.current?.querySelector('[aria-current="page"]')?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
  }, [menuOpen]);

  return (
    <div className={`shell${menuOpen ? " menu-open" : ""}`}>
      <a className="skip-link" href="#main">
        {t.shell.skip}
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={20} height={20} /> {t.app.name}
        </Link>
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="sidenav" onClick={() => setMenuOpen((o) => !o)}>
          {t.shell.menu}
          {current?.nav && <span className="muted"> · {t.nav[current.nav]}</span>}
        </button>
        <div className="topbar-tools">
          <OrgSwitcher />
          <Preferences />
          <div className="user">
            <span className="muted" title={me.user.name ?? undefined}>
              {me.user.login}
            </span>
            <button type="button" onClick={() => void signOut.exec()} disabled={signOut.pending}>
              {t.shell.signOut}
            </button>
          </div>
        </div>
      </header>
      <nav className="sidenav" id="sidenav" aria-label={t.shell.mainNav} ref={navRef}>
        <ul>
          {nav.map((r) => (
            <li key={r.path}>
              <Link to={r.path} aria-current={r === current ? "page" : undefined}>
                {t.nav[r.nav!]}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <ReconnectBanner />
        {children}
      </main>
    </div>
  );
}
