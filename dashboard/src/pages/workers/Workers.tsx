import { useT } from "../../i18n/i18n";
import { Page } from "../../ui/states";
import { WorkerList } from "./WorkerList";
import { CoordinatorList } from "./CoordinatorList";

export default function Workers() {
  const t = useT();
  return (
    <Page title={t.nav.workers}>
      <WorkerList />
      <CoordinatorList />
    </Page>
  );
}
