import { unwrap } from "../../api/client";
import type { Query, Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { useI18n } from "../../i18n/i18n";
import { DataTable, type Column } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { useAgents, useRepositories } from "../../lists/useRepositories";
import { ErrorView, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { Filters, SelectFilter } from "../../lists/Filters";
import { allowedActions, type TaskAction } from "./actions";
import { NewTask } from "./NewTask";
import { useTaskNames } from "./useTaskNames";
import { useLiveReload } from "../../events/LiveEvents";

type Task = Schema<"TaskOut">;
type Priority = NonNullable<Query<"list-tasks">["priority"]>;
const statuses = ["pending", "running", "completed", "failed", "cancelled"] as const;
const priorities: Priority[] = ["P0", "P1", "P2"];

export default function Tasks() {
  const { api, can } = useSession();
  const { t, fmt } = useI18n();
  const q = useListQuery("/tasks", ["status", "priority", "repository_id", "agent_type"], { refreshOn: ["task.updated"] });
  const stats = useApiData(() => unwrap(api.GET("/tasks/stats")), []);
  // the list refreshes itself on task.updated (refreshOn); the counts above it too
  useLiveReload(["task.updated"], stats.reload);
  const repos = useRepositories();
  const agents = useAgents();
  const names = useTaskNames();
  const reload = () => {
    q.reload();
    stats.reload();
    names.reload();
  };
  const act = useAction(async (task: Task, a: TaskAction) => {
    const p = { params: { path: { id: task.id } } };
    switch (a) {
      case "start": await unwrap(api.POST("/tasks/{id}/start", { ...p, body: {} })); break;
      case "complete": await unwrap(api.POST("/tasks/{id}/complete", { ...p, body: {} })); break;
      case "fail": {
        const reason = window.prompt(t.tasks.whyFailed(task.name));
        if (reason === null) return;
        await unwrap(api.POST("/tasks/{id}/fail", { ...p, body: { error: reason || undefined } }));
        break;
      }
      case "cancel": await unwrap(api.POST("/tasks/{id}/cancel", { ...p, body: {} })); break;
      case "retry": await unwrap(api.POST("/tasks/{id}/retry", { ...p, body: {} })); break;
      case "delete":
        if (!window.confirm(t.tasks.confirmDelete(task.name))) return;
        await unwrap(api.DELETE("/tasks/{id}", p));
        break;
    }
    reload();
  });
  const reprioritize = useAction(async (task: Task, priority: Priority) => {
    await unwrap(api.PATCH("/tasks/{id}", { params: { path: { id: task.id } }, body: { priority } }));
    q.reload();
  });

  const columns: Column<Task>[] = [
    {
      header: t.tasks.task,
      cell: (task) => (
        <>
          <strong>
            <Link to={`/tasks/${task.id}`}>{task.name}</Link>
          </strong>
          {task.description && <div className="muted small">{task.description}</div>}
          {task.error && <div className="small">{t.tasks.error(task.error)}</div>}
          {(task.depends_on ?? []).length > 0 && (
            <div className="muted small">
              {task.deps_pending > 0 ? t.tasks.waitingOn : t.tasks.dependsOn}{" "}
              {(task.depends_on ?? []).map((d, i) => (
                <span key={d}>
                  {i > 0 && ", "}
                  <Link to={`/tasks/${d}`}>{names.name(d)}</Link>
                </span>
              ))}
            </div>
          )}
        </>
      ),
    },
    {
      header: t.common.priority,
      cell: (task) =>
        can("tasks.update") && (task.status === "pending" || task.status === "running") ? (
          <select aria-label={t.tasks.priorityOf(task.name)} value={task.priority} disabled={reprioritize.pending} onChange={(e) => void reprioritize.exec(task, e.target.value as Priority)}>
            {priorities.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        ) : (
          task.priority
        ),
    },
    { header: t.common.status, cell: (task) => <StatusBadge status={task.status} /> },
    { header: t.common.agent, priority: "low", cell: (task) => task.agent_type ?? <span className="muted">{t.common.manual}</span> },
    { header: t.tasks.retries, priority: "low", cell: (task) => `${task.retry_count} / ${task.max_retries}` },
    { header: t.common.created, priority: "low", cell: (task) => <Time value={task.created_at} relative /> },
    {
      header: t.common.actions,
      show: can("tasks.update") || can("tasks.delete"),
      cell: (task) => (
        <div className="row">
          {allowedActions(task, can).map((a) => (
            <button key={a} type="button" className={a === "delete" ? "danger" : undefined} disabled={act.pending} onClick={() => void act.exec(task, a)}>
              {t.tasks.action[a]}
              <span className="visually-hidden"> {task.name}</span>
            </button>
          ))}
        </div>
      ),
    },
  ];

  return (
    <Page title={t.nav.tasks}>
      <Show data={stats} what={t.tasks.counts}>
        {(s) => (
          <ul className="cards plain-cards" aria-label={t.tasks.byStatus}>
            {statuses.map((st) => (
              <li key={st} className="card">
                <div className="value">{fmt.number(s.by_status[st] ?? 0)}</div>
                <div className="label">{t.status[st]}</div>
              </li>
            ))}
          </ul>
        )}
      </Show>
      {can("tasks.create") && <NewTask repositories={repos.items} agents={agents.items} tasks={names.open} onCreated={reload} />}
      <Filters>
        <SelectFilter id="t-status" label={t.common.status} value={q.filters.status!} onChange={(v) => q.setFilters({ status: v })} options={statuses.map((s) => [s, t.status[s]])} />
        <SelectFilter id="t-priority" label={t.common.priority} value={q.filters.priority!} onChange={(v) => q.setFilters({ priority: v })} options={priorities.map((p) => [p, p])} />
        <SelectFilter id="t-repo" label={t.common.repository} value={q.filters.repository_id!} onChange={(v) => q.setFilters({ repository_id: v })} options={repos.items.map((r) => [r.id, r.full_name])} />
        <SelectFilter id="t-agent" label={t.common.agentType} value={q.filters.agent_type!} onChange={(v) => q.setFilters({ agent_type: v })} options={agents.items.map((a) => [a.type, a.type])} />
      </Filters>
      {act.error && <ErrorView error={act.error} title={t.tasks.notChanged} />}
      {reprioritize.error && <ErrorView error={reprioritize.error} title={t.tasks.priorityNotChanged} />}
      <DataTable
        data={q.list}
        what={t.nav.tasks}
        caption={t.nav.tasks}
        rowKey={(task) => task.id}
        columns={columns}
        empty={q.filtered ? t.common.noMatch : t.tasks.empty}
        onPage={q.setPage}
      />
    </Page>
  );
}
