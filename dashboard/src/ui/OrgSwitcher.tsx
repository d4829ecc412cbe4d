import { useId } from "react";
import { useSession } from "../session/session";
import { Link } from "../router/router";
import { useT } from "../i18n/i18n";
import { ErrorView } from "./states";
import { useAction } from "./useApiData";

/** OrgSwitcher makes another of the caller's organizations the active one. */
export function OrgSwitcher() {
  const { me, switchOrganization } = useSession();
  const t = useT();
  const id = useId();
  const sw = useAction(switchOrganization);
  const orgs = me.memberships ?? [];
  return (
    <div className="org-switcher">
      <label htmlFor={id} className="visually-hidden">
        {t.shell.organization}
      </label>
      <select id={id} value={me.organization.id} disabled={sw.pending} onChange={(e) => void sw.exec(e.target.value, "/")}>
        {orgs.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name} ({t.roles[o.role as keyof typeof t.roles] ?? o.role})
          </option>
        ))}
      </select>
      <Link to="/organizations/new" className="small">
        {t.shell.newOrganization}
      </Link>
      {sw.error && <ErrorView error={sw.error} title={t.shell.switchFailed} />}
    </div>
  );
}
