import type { ReactNode } from "react";
import { useSession } from "../session/session";
import { Link, useLocation } from "../router/router";
import { routes } from "../routes";
import { OrgSwitcher } from "./OrgSwitcher";
import { useAction } from "./useApiData";

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const { me } = session;
  const { path } = useLocation();
  const signOut = useAction(session.signOut);
  const nav = routes.filter((r) => r.nav && (!r.allowed || r.allowed(session)));
  const active = (p: string) => (p === "/" ? path === "/" : path === p || path.startsWith(p + "/"));

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Miyabi
        </Link>
        <OrgSwitcher />
        <div className="user">
          <span className="muted" title={me.user.name ?? undefined}>
            {me.user.login}
          </span>
          <button type="button" onClick={() => void signOut.exec()} disabled={signOut.pending}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {nav.map((r) => (
            <li key={r.path}>
              <Link to={r.path} aria-current={active(r.path) ? "page" : undefined}>
                {r.nav}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
