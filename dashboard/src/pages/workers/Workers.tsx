import { Page } from "../../ui/states";
import { WorkerList } from "./WorkerList";
import { CoordinatorList } from "./CoordinatorList";

export default function Workers() {
  return (
    <Page title="Workers">
      <WorkerList />
      <CoordinatorList />
    </Page>
  );
}

