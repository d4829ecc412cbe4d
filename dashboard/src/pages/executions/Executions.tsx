import { useI18n } from "../../i18n/i18n";
import { DataTable } from "../../lists/DataTable";
import { Filters, SelectFilter } from "../../lists/Filters";
import { useListQuery } from "../../lists/useListQuery";
import { useAgents, useRepositories } from "../../lists/useRepositories";
import { executionColumns } from "../../ui/ExecutionTable";
import { Page } from "../../ui/states";

const statuses = ["pending", "running", "completed", "failed", "cancelled"] as const;

/** Executions with their filters in the address, so a filtered list is a link. */
export default function Executions() {
  const { t } = useI18n();
  const q = useListQuery("/agents/executions", ["status", "agent_type", "repository_id"], { refreshOn: ["execution.updated"], pollMs: 10_000 });
  const repos = useRepositories();
  const agents = useAgents();
  return (
    <Page title={t.nav.executions}>
      <Filters>
        <SelectFilter id="f-status" label={t.common.status} value={q.filters.status!} onChange={(v) => q.setFilters({ status: v })} options={statuses.map((s) => [s, t.status[s]])} />
        <SelectFilter id="f-agent" label={t.common.agentType} value={q.filters.agent_type!} onChange={(v) => q.setFilters({ agent_type: v })} options={agents.items.map((a) => [a.type, a.type])} />
        <SelectFilter id="f-repo" label={t.common.repository} value={q.filters.repository_id!} onChange={(v) => q.setFilters({ repository_id: v })} options={repos.items.map((r) => [r.id, r.full_name])} />
      </Filters>
      <DataTable
        data={q.list}
        what={t.nav.executions}
        caption={t.nav.executions}
        rowKey={(e) => e.id}
        columns={executionColumns(t)}
        empty={q.filtered ? t.common.noMatch : t.executions.empty}
        onPage={q.setPage}
      />
    </Page>
  );
}
