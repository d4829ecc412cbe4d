import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";

type Priority = NonNullable<Schema<"CreateTaskInputBody">["priority"]>;

export function NewTask({
  repositories,
  agents,
  onCreated,
}: {
  repositories: Schema<"RepositoryOut">[];
  agents: Schema<"AgentOut">[];
  onCreated: () => void;
}) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [priority, setPriority] = useState<Priority>("P1");
  const [repositoryId, setRepositoryId] = useState("");
  const [agentType, setAgentType] = useState("");
  const [issue, setIssue] = useState("");
  const create = useAction(async () => {
    await unwrap(
      api.POST("/tasks", {
        body: {
          name: name.trim(),
          description: description || undefined,
          priority,
          repository_id: repositoryId || undefined,
          agent_type: agentType || undefined,
          issue_number: issue ? Number(issue) : undefined,
        },
      }),
    );
    setName("");
    setDescription("");
    setIssue("");
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
          New task
        </button>
      </p>
    );
  return (
    <form className="panel" onSubmit={submit} aria-label="New task">
      <div className="form-row">
        <div className="field">
          <label htmlFor="nt-name">Task name</label>
          <input id="nt-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field grow">
          <label htmlFor="nt-description">Description</label>
          <input id="nt-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="nt-priority">Priority</label>
          <select id="nt-priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
            <option>P0</option>
            <option>P1</option>
            <option>P2</option>
          </select>
        </div>
      </div>
      <div className="form-row">
        <div className="field">
          <label htmlFor="nt-repo">Repository</label>
          <select id="nt-repo" value={repositoryId} onChange={(e) => setRepositoryId(e.target.value)}>
            <option value="">none</option>
            {repositories.map((r) => (
              <option key={r.id} value={r.id}>
                {r.full_name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="nt-agent">Agent type (empty: manual work)</label>
          <select id="nt-agent" value={agentType} onChange={(e) => setAgentType(e.target.value)}>
            <option value="">manual</option>
            {agents.map((a) => (
              <option key={a.type} value={a.type}>
                {a.type}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="nt-issue">Issue number</label>
          <input id="nt-issue" type="number" min={1} value={issue} onChange={(e) => setIssue(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={create.pending || name.trim() === ""}>
          Create task
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
      {create.error && <ErrorView error={create.error} title="Task not created" />}
    </form>
  );
}
