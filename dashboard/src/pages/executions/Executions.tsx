import { unwrap } from "../../api/client";
import type { Query } from "../../api/types";
import { useSession } from "../../session/session";
import { navigate, useLocation, withQuery } from "../../router/router";
import { ExecutionTable } from "../../ui/ExecutionTable";
import { Empty, Page, Pagination, Show } from "../../ui/states";
import { useApiData } from "../../ui/useApiData";
import { useLiveReload } from "../../events/LiveEvents";

type Status = NonNullable<Query<"list-executions">["status"]>;
const statuses: Status[] = ["pending", "running", "completed", "failed", "cancelled"];

/** Executions with their filters in the address, so a filtered list is a link. */
export default function Executions() {
  const { api } = useSession();
  const { path, query } = useLocation();
  const status = (query.get("status") ?? "") as Status | "";
  const agentType = query.get("agent_type") ?? "";
  const repositoryId = query.get("repository_id") ?? "";
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  const list = useApiData(
    () =>
      unwrap(
        api.GET("/agents/executions", {
          params: {
            query: { page, limit: 20, status: status || undefined, agent_type: agentType || undefined, repository_id: repositoryId || undefined },
          },
        }),
      ),
    [page, status, agentType, repositoryId],
  );
  useLiveReload(["execution.updated"], list.reload); // in place, as executions start, move and end
  const repos = useApiData(() => unwrap(api.GET("/repositories", { params: { query: { limit: 100 } } })), []);
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  const set = (changes: Record<string, string | undefined>) => navigate(withQuery(path, query, { page: undefined, ...changes }), { replace: true });

  return (
    <Page title="Executions">
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-agent">Agent type</label>
          <select id="f-agent" value={agentType} onChange={(e) => set({ agent_type: e.target.value })}>
            <option value="">any</option>
            {agents.status === "ready" &&
              (agents.data.items ?? []).map((a) => (
                <option key={a.type} value={a.type}>
                  {a.type}
                </option>
              ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-repo">Repository</label>
          <select id="f-repo" value={repositoryId} onChange={(e) => set({ repository_id: e.target.value })}>
            <option value="">any</option>
            {repos.status === "ready" &&
              (repos.data.items ?? []).map((r) => (
                <option key={r.id} value={r.id}>
                  {r.full_name}
                </option>
              ))}
          </select>
        </div>
      </form>
      <Show data={list} what="executions">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No executions{status || agentType || repositoryId ? " match these filters" : " yet"}.</Empty>
          ) : (
            <>
              <ExecutionTable items={p.items ?? []} caption="Executions" />
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={(n) => navigate(withQuery(path, query, { page: String(n) }))} />
            </>
          )
        }
      </Show>
    </Page>
  );
}
