import { useSession } from "../../session/session";
import { Page } from "../../ui/states";
import { useT } from "../../i18n/i18n";
import { OrgDetails } from "./OrgDetails";
import { Members } from "./Members";
import { Invitations } from "./Invitations";
import { Teams } from "./Teams";

export default function Settings() {
  const { can } = useSession();
  const t = useT();
  return (
    <Page title={t.nav.settings}>
      <OrgDetails />
      {can("organization.members.read") && <Members />}
      {can("organization.members.manage") && <Invitations />}
      {can("teams.read") && <Teams />}
    </Page>
  );
}
