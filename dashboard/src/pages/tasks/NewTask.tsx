import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { useDraft } from "../../ui/useDraft";

type Priority = NonNullable<Schema<"CreateTaskInputBody">["priority"]>;
const blank = { name: "", description: "", priority: "P1" as Priority, repositoryId: "", agentType: "", issue: "", dependsOn: [] as string[] };

export function NewTask({
  repositories,
  agents,
  tasks,
  onCreated,
}: {
  repositories: Schema<"RepositoryOut">[];
  agents: Schema<"AgentOut">[];
  /** Tasks the new one may wait on. */
  tasks: Schema<"TaskOut">[];
  onCreated: () => void;
}) {
  const { api } = useSession();
  const t = useT();
  // The draft survives a session that ends mid-form.
  const draft = useDraft("new-task", blank);
  const [open, setOpen] = useState(draft.restored);
  const f = draft.value;
  const create = useAction(async () => {
    await unwrap(
      api.POST("/tasks", {
        body: {
          name: f.name.trim(),
          description: f.description || undefined,
          priority: f.priority,
          repository_id: f.repositoryId || undefined,
          agent_type: f.agentType || undefined,
          issue_number: f.issue ? Number(f.issue) : undefined,
          depends_on: f.dependsOn.length ? f.dependsOn : undefined,
        },
      }),
    );
    // Every new task starts from the defaults (the last one's priority is not carried over).
    draft.clear();
    onCreated();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.exec();
  };
  if (!open)
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          {t.tasks.new}
        </button>
      </p>
    );
  return (
    <form className="panel" onSubmit={submit} aria-label={t.tasks.new}>
      {draft.restored && <p className="muted small">{t.session.draftRestored}</p>}
      <div className="form-row">
        <div className="field">
          <label htmlFor="nt-name">{t.tasks.name}</label>
          <input id="nt-name" required value={f.name} onChange={(e) => draft.set({ name: e.target.value })} />
        </div>
        <div className="field grow">
          <label htmlFor="nt-description">{t.tasks.description}</label>
          <input id="nt-description" value={f.description} onChange={(e) => draft.set({ description: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="nt-priority">{t.common.priority}</label>
          <select id="nt-priority" value={f.priority} onChange={(e) => draft.set({ priority: e.target.value as Priority })}>
            <option>P0</option>
            <option>P1</option>
            <option>P2</option>
          </select>
        </div>
      </div>
      <div className="form-row">
        <div className="field">
          <label htmlFor="nt-repo">{t.common.repository}</label>
          <select id="nt-repo" value={f.repositoryId} onChange={(e) => draft.set({ repositoryId: e.target.value })}>
            <option value="">{t.common.none}</option>
            {repositories.map((r) => (
              <option key={r.id} value={r.id}>
                {r.full_name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="nt-agent">{t.tasks.agentHelp}</label>
          <select id="nt-agent" value={f.agentType} onChange={(e) => draft.set({ agentType: e.target.value })}>
            <option value="">{t.common.manual}</option>
            {agents.map((a) => (
              <option key={a.type} value={a.type}>
                {a.type}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="nt-issue">{t.common.issue}</label>
          <input id="nt-issue" type="number" min={1} value={f.issue} onChange={(e) => draft.set({ issue: e.target.value })} />
        </div>
        {tasks.length > 0 && (
          <div className="field">
            <label htmlFor="nt-deps">{t.tasks.dependsOnLabel}</label>
            <select
              id="nt-deps"
              multiple
              size={Math.min(4, tasks.length)}
              value={f.dependsOn}
              onChange={(e) => draft.set({ dependsOn: [...e.target.selectedOptions].map((o) => o.value) })}
            >
              {tasks.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <button type="submit" className="primary" disabled={create.pending || f.name.trim() === ""}>
          {t.tasks.create}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {t.common.close}
        </button>
      </div>
      {create.error && <ErrorView error={create.error} title={t.tasks.notCreated} />}
    </form>
  );
}
