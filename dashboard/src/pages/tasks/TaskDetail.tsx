import { useId, useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import type { PageProps } from "../../routes";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { ErrorView, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { formatMetadata, parseMetadata } from "./metadata";

type Task = Schema<"TaskOut">;
type Patch = Schema<"UpdateTaskInputBody">;
type Priority = Task["priority"];

export default function TaskDetail({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, can } = useSession();
  const task = useApiData(() => unwrap(api.GET("/tasks/{id}", { params: { path: { id } } })), [id]);
  const [saved, setSaved] = useState(false);
  const title = task.status === "ready" ? task.data.name : "Task";

  return (
    <Page title={title} actions={<Link to="/tasks">All tasks</Link>}>
      <Show data={task} what="the task">
        {(t) => (
          <>
            <dl className="panel details">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={t.status} />
              </dd>
              <dt>Priority</dt>
              <dd>{t.priority}</dd>
              <dt>Agent</dt>
              <dd>{t.agent_type ?? "manual"}</dd>
              <dt>Description</dt>
              <dd>{t.description || "—"}</dd>
              <dt>Retries</dt>
              <dd>
                {t.retry_count} / {t.max_retries}
              </dd>
              <dt>Created</dt>
              <dd>
                <Time value={t.created_at} />
              </dd>
              <dt>Updated</dt>
              <dd>
                <Time value={t.updated_at} />
              </dd>
              {t.error && (
                <>
                  <dt>Error</dt>
                  <dd>{t.error}</dd>
                </>
              )}
              {t.execution_id && (
                <>
                  <dt>Execution</dt>
                  <dd>
                    <Link to={`/executions/${t.execution_id}`}>{t.execution_id.slice(0, 8)}</Link>
                  </dd>
                </>
              )}
              <dt>Metadata</dt>
              <dd>
                <pre className="small">{formatMetadata(t.metadata)}</pre>
              </dd>
            </dl>
            {saved && (
              <p role="status" className="muted">
                Saved.
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
    const parsed = parseMetadata(metadata);
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
    <form className="panel" onSubmit={submit} aria-label="Edit task">
      <h2>Edit task</h2>
      <div className="form-row">
        <div className="field grow">
          <label htmlFor={`${ids}-name`}>Name</label>
          <input id={`${ids}-name`} required value={name} onChange={(e) => edited(setName)(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-priority`}>Priority</label>
          <select id={`${ids}-priority`} value={priority} onChange={(e) => edited(setPriority)(e.target.value as Priority)}>
            <option>P0</option>
            <option>P1</option>
            <option>P2</option>
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-description`}>Description</label>
        <textarea id={`${ids}-description`} rows={3} value={description} onChange={(e) => edited(setDescription)(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-metadata`}>Metadata (a JSON object; it replaces the current one)</label>
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
          Save task
        </button>
      </div>
      {save.error && <ErrorView error={save.error} title="Task not saved" />}
    </form>
  );
}
