import { unwrap } from "../../api/client";
import type { Query, Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Link, navigate, useLocation, withQuery } from "../../router/router";
import { Empty, ErrorView, Page, Pagination, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { allowedActions, type TaskAction } from "./actions";
import { NewTask } from "./NewTask";
import { useLiveReload } from "../../events/LiveEvents";

type Task = Schema<"TaskOut">;
type Status = NonNullable<Query<"list-tasks">["status"]>;
type Priority = NonNullable<Query<"list-tasks">["priority"]>;
const statuses: Status[] = ["pending", "running", "completed", "failed", "cancelled"];
const priorities: Priority[] = ["P0", "P1", "P2"];
const labels: Record<TaskAction, string> = { start: "Start", complete: "Complete", fail: "Fail", cancel: "Cancel", retry: "Retry", delete: "Delete" };

export default function Tasks() {
  const { api, can } = useSession();
  const { path, query } = useLocation();
  const status = (query.get("status") ?? "") as Status | "";
  const priority = (query.get("priority") ?? "") as Priority | "";
  const repositoryId = query.get("repository_id") ?? "";
  const agentType = query.get("agent_type") ?? "";
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  const list = useApiData(
    () =>
      unwrap(
        api.GET("/tasks", {
          params: {
            query: {
              page, limit: 20, status: status || undefined, priority: priority || undefined,
              repository_id: repositoryId || undefined, agent_type: agentType || undefined,
            },
          },
        }),
      ),
    [page, status, priority, repositoryId, agentType],
  );
  const stats = useApiData(() => unwrap(api.GET("/tasks/stats")), []);
  useLiveReload(["task.updated"], () => {
    list.reload();
    stats.reload();
  });
  const repos = useApiData(() => unwrap(api.GET("/repositories", { params: { query: { limit: 100 } } })), []);
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  const act = useAction(async (t: Task, a: TaskAction) => {
    const p = { params: { path: { id: t.id } } };
    switch (a) {
      case "start": await unwrap(api.POST("/tasks/{id}/start", { ...p, body: {} })); break;
      case "complete": await unwrap(api.POST("/tasks/{id}/complete", { ...p, body: {} })); break;
      case "fail": {
        const reason = window.prompt(`Why did "${t.name}" fail?`);
        if (reason === null) return;
        await unwrap(api.POST("/tasks/{id}/fail", { ...p, body: { error: reason || undefined } }));
        break;
      }
      case "cancel": await unwrap(api.POST("/tasks/{id}/cancel", { ...p, body: {} })); break;
      case "retry": await unwrap(api.POST("/tasks/{id}/retry", { ...p, body: {} })); break;
      case "delete":
        if (!window.confirm(`Delete task "${t.name}"?`)) return;
        await unwrap(api.DELETE("/tasks/{id}", p));
        break;
    }
    list.reload();
    stats.reload();
  });
  const reprioritize = useAction(async (t: Task, priority: Priority) => {
    await unwrap(api.PATCH("/tasks/{id}", { params: { path: { id: t.id } }, body: { priority } }));
    list.reload();
  });
  const set = (changes: Record<string, string | undefined>) => navigate(withQuery(path, query, { page: undefined, ...changes }), { replace: true });
  const reload = () => {
    list.reload();
    stats.reload();
  };

  return (
    <Page title="Tasks">
      <Show data={stats} what="task counts">
        {(s) => (
          <ul className="cards plain-cards" aria-label="Tasks by status">
            {statuses.map((st) => (
              <li key={st} className="card">
                <div className="value">{s.by_status[st] ?? 0}</div>
                <div className="label">{st}</div>
              </li>
            ))}
          </ul>
        )}
      </Show>
      {can("tasks.create") && repos.status === "ready" && agents.status === "ready" && (
        <NewTask repositories={repos.data.items ?? []} agents={agents.data.items ?? []} onCreated={reload} />
      )}
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="t-status">Status</label>
          <select id="t-status" value={status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="t-priority">Priority</label>
          <select id="t-priority" value={priority} onChange={(e) => set({ priority: e.target.value })}>
            <option value="">any</option>
            {priorities.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="t-repo">Repository</label>
          <select id="t-repo" value={repositoryId} onChange={(e) => set({ repository_id: e.target.value })}>
            <option value="">any</option>
            {repos.status === "ready" &&
              (repos.data.items ?? []).map((r) => (
                <option key={r.id} value={r.id}>
                  {r.full_name}
                </option>
              ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="t-agent">Agent type</label>
          <select id="t-agent" value={agentType} onChange={(e) => set({ agent_type: e.target.value })}>
            <option value="">any</option>
            {agents.status === "ready" &&
              (agents.data.items ?? []).map((a) => (
                <option key={a.type} value={a.type}>
                  {a.type}
                </option>
              ))}
          </select>
        </div>
      </form>
      {act.error && <ErrorView error={act.error} title="The task did not change" />}
      {reprioritize.error && <ErrorView error={reprioritize.error} title="The priority did not change" />}
      <Show data={list} what="tasks">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No tasks{status || priority || repositoryId || agentType ? " match these filters" : " yet"}.</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Task</th>
                      <th scope="col">Priority</th>
                      <th scope="col">Status</th>
                      <th scope="col">Agent</th>
                      <th scope="col">Retries</th>
                      <th scope="col">Created</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((t) => {
                      const actions = allowedActions(t, can);
                      return (
                        <tr key={t.id}>
                          <td>
                            <strong>
                              <Link to={`/tasks/${t.id}`}>{t.name}</Link>
                            </strong>
                            {t.description && <div className="muted small">{t.description}</div>}
                            {t.error && <div className="small">Error: {t.error}</div>}
                            {t.deps_pending > 0 && <div className="muted small">waiting on {t.deps_pending}</div>}
                          </td>
                          <td>
                            {can("tasks.update") && (t.status === "pending" || t.status === "running") ? (
                              <select
                                aria-label={`Priority of ${t.name}`}
                                value={t.priority}
                                disabled={reprioritize.pending}
                                onChange={(e) => void reprioritize.exec(t, e.target.value as Priority)}
                              >
                                {priorities.map((p) => (
                                  <option key={p}>{p}</option>
                                ))}
                              </select>
                            ) : (
                              t.priority
                            )}
                          </td>
                          <td>
                            <StatusBadge status={t.status} />
                          </td>
                          <td>{t.agent_type ?? <span className="muted">manual</span>}</td>
                          <td>
                            {t.retry_count} / {t.max_retries}
                          </td>
                          <td>
                            <Time value={t.created_at} />
                          </td>
                          <td>
                            <div className="row">
                              {actions.map((a) => (
                                <button key={a} type="button" className={a === "delete" ? "danger" : undefined} disabled={act.pending} onClick={() => void act.exec(t, a)}>
                                  {labels[a]}
                                  <span className="visually-hidden"> {t.name}</span>
                                </button>
                              ))}
                            </div>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={(n) => navigate(withQuery(path, query, { page: String(n) }))} />
            </>
          )
        }
      </Show>
    </Page>
  );
}
