import { useSession } from "../session/session";
import { useLocation } from "../router/router";
import { useT } from "../i18n/i18n";
import { ErrorView } from "./ErrorView";
import { useAction } from "./useApiData";

/**
 * NotHere answers a 404 for an object: it is not in this organization. It may be in another
 * of the user's organizations (a link shared across them): offer to look there.
 */
export function NotHere({ what }: { what: string }) {
  const { me, switchOrganization } = useSession();
  const t = useT();
  const { path, query } = useLocation();
  const sw = useAction(switchOrganization);
  const others = (me.memberships ?? []).filter((o) => o.id !== me.organization.id);
  const here = path + (query.size ? `?${query}` : "");
  return (
    <div className="panel" role="alert">
      <h2>{t.notHere.title(what)}</h2>
      <p>{t.notHere.body(me.organization.name)}</p>
      {others.length > 0 && (
        <>
          <p>{t.notHere.other}</p>
          <ul className="row plain-row">
            {others.map((o) => (
              <li key={o.id}>
                <button type="button" disabled={sw.pending} onClick={() => void sw.exec(o.id, here)}>
                  {t.notHere.lookIn(o.name)}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {sw.error && <ErrorView error={sw.error} title={t.shell.switchFailed} />}
    </div>
  );
}
