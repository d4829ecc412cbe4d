import { useId, useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import type { PageProps } from "../../routes";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { ErrorView, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { formatMetadata, parseMetadata } from "./metadata";
import { useT } from "../../i18n/i18n";
import { useTaskNames } from "./useTaskNames";

type Task = Schema<"TaskOut">;
type Patch = Schema<"UpdateTaskInputBody">;
type Priority = Task["priority"];

export default function TaskDetail({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, can } = useSession();
  const task = useApiData(() => unwrap(api.GET("/tasks/{id}", { params: { path: { id } } })), [id]);
  const [saved, setSaved] = useState(false);
  const m = useT();
  const names = useTaskNames();
  const title = task.status === "ready" ? task.data.name : m.tasks.task;

  return (
    <Page title={title} actions={<Link to="/tasks">{m.tasks.allTasks}</Link>}>
      <Show data={task} what={m.tasks.task}>
        {(t) => (
          <>
            <dl className="panel details">
              <dt>{m.common.status}</dt>
              <dd>
                <StatusBadge status={t.status} />
              </dd>
              <dt>{m.common.priority}</dt>
              <dd>{t.priority}</dd>
              <dt>{m.common.agent}</dt>
              <dd>{t.agent_type ?? m.common.manual}</dd>
              <dt>{m.tasks.dependencies}</dt>
              <dd>
                {(t.depends_on ?? []).length === 0
                  ? m.tasks.noDependencies
                  : (t.depends_on ?? []).map((d, i) => (
                      <span key={d}>
                        {i > 0 && ", "}
                        <Link to={`/tasks/${d}`}>{names.name(d)}</Link>
                      </span>
                    ))}
              </dd>
              <dt>{m.tasks.description}</dt>
              <dd>{t.description || "—"}</dd>
              <dt>{m.tasks.retries}</dt>
              <dd>
                {t.retry_count} / {t.max_retries}
              </dd>
              <dt>{m.common.created}</dt>
              <dd>
                <Time value={t.created_at} />
              </dd>
              <dt>{m.tasks.updated}</dt>
              <dd>
                <Time value={t.updated_at} />
              </dd>
              {t.status === "cancelled" && (
                <>
                  <dt>{m.run.cancelledAt}</dt>
                  <dd data-testid="task-cancelled">
                    {t.cancelled_by ? <>{m.run.cancelledBy(t.cancelled_by.login)} · </> : null}
                    <Time value={t.cancelled_at ?? t.updated_at} />
                  </dd>
                </>
              )}
              {t.error && (
                <>
                  <dt>{m.common.error}</dt>
                  <dd>{t.error}</dd>
                </>
              )}
              {t.execution_id && (
                <>
                  <dt>{m.tasks.execution}</dt>
                  <dd>
                    <Link to={`/executions/${t.execution_id}`}>{t.execution_id.slice(0, 8)}</Link>
                  </dd>
                </>
              )}
              <dt>{m.tasks.metadata}</dt>
              <dd>
                <pre className="small">{formatMetadata(t.metadata)}</pre>
              </dd>
            </dl>
            {saved && (
              <p role="status" className="muted">
                {m.tasks.saved}
              </p>
            )}
            {can("tasks.update") && (
              // A save brings a new updated_at: the form starts again from what the API answered.
              <TaskEditForm
                key={t.updated_at}
                task={t}
                onSaved={() => {
                  setSaved(true);
                  task.reload();
                }}
                onEdit={() => setSaved(false)}
              />
            )}
          </>
        )}
      </Show>
    </Page>
  );
}

/** TaskEditForm edits what PATCH /tasks/{id} accepts, sending only what changed. */
function TaskEditForm({ task, onSaved, onEdit }: { task: Task; onSaved: () => void; onEdit: () => void }) {
  const { api } = useSession();
  const m = useT();
  const ids = useId();
  const [name, setName] = useState(task.name);
  const [description, setDescription] = useState(task.description);
  const [priority, setPriority] = useState<Priority>(task.priority);
  const [metadata, setMetadata] = useState(() => formatMetadata(task.metadata));
  const [syntaxError, setSyntaxError] = useState<string | null>(null);
  const save = useAction(async (body: Patch) => {
    await unwrap(api.PATCH("/tasks/{id}", { params: { path: { id: task.id } }, body }));
    onSaved();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseMetadata(metadata, m.tasks);
    setSyntaxError(parsed.ok ? null : parsed.error);
    if (!parsed.ok) return;
    const body: Patch = {};
    if (name.trim() !== task.name) body.name = name.trim();
    if (description !== task.description) body.description = description;
    if (priority !== task.priority) body.priority = priority;
    if (JSON.stringify(parsed.value) !== JSON.stringify(task.metadata ?? {})) body.metadata = parsed.value;
    void save.exec(body);
  };
  const edited = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    onEdit();
  };

  return (
    <form className="panel" onSubmit={submit} aria-label={m.tasks.edit}>
      <h2>{m.tasks.edit}</h2>
      <div className="form-row">
        <div className="field grow">
          <label htmlFor={`${ids}-name`}>{m.common.name}</label>
          <input id={`${ids}-name`} required value={name} onChange={(e) => edited(setName)(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-priority`}>{m.common.priority}</label>
          <select id={`${ids}-priority`} value={priority} onChange={(e) => edited(setPriority)(e.target.value as Priority)}>
            <option>P0</option>
            <option>P1</option>
            <option>P2</option>
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-description`}>{m.tasks.description}</label>
        <textarea id={`${ids}-description`} rows={3} value={description} onChange={(e) => edited(setDescription)(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-metadata`}>{m.tasks.metadataHelp}</label>
        <textarea
          id={`${ids}-metadata`}
          rows={6}
          spellCheck={false}
          value={metadata}
          aria-invalid={syntaxError !== null}
          aria-describedby={syntaxError ? `${ids}-metadata-error` : undefined}
          onChange={(e) => {
            edited(setMetadata)(e.target.value);
            setSyntaxError(null);
          }}
        />
        {syntaxError && (
          <p id={`${ids}-metadata-error`} className="error" role="alert">
            {syntaxError}
          </p>
        )}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={save.pending || name.trim() === ""}>
          {m.tasks.save}
        </button>
      </div>
      {save.error && <ErrorView error={save.error} title={m.tasks.notSaved} />}
    </form>
  );
}
