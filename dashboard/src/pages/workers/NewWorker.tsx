import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { CopyButton, ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";

/** Creates a worker and shows its token once: the API keeps only a hash of it. */
export function NewWorker({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const [name, setName] = useState("");
  const [concurrency, setConcurrency] = useState(1);
  const [agentTypes, setAgentTypes] = useState("");
  const [created, setCreated] = useState<Schema<"CreatedWorker"> | null>(null);
  const create = useAction(async () => {
    const types = agentTypes.split(",").map((s) => s.trim()).filter(Boolean);
    const w = await unwrap(
      api.POST("/workers", { body: { name: name.trim(), max_concurrency: concurrency, agent_types: types.length ? types : undefined } }),
    );
    setCreated(w);
    setName("");
    onCreated();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    void create.exec();
  };
  return (
    <div className="panel">
      <form className="form-row" onSubmit={submit} aria-label="Create a worker">
        <div className="field">
          <label htmlFor="worker-name">Worker name</label>
          <input id="worker-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="worker-concurrency">Max concurrency</label>
          <input
            id="worker-concurrency"
            type="number"
            min={1}
            required
            value={concurrency}
            onChange={(e) => setConcurrency(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="worker-types">Agent types (comma-separated, empty for any)</label>
          <input id="worker-types" value={agentTypes} onChange={(e) => setAgentTypes(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={create.pending || name.trim() === ""}>
          Create worker
        </button>
      </form>
      {create.error && <ErrorView error={create.error} title="Worker not created" />}
      {created && (
        <div role="status">
          <p>
            Worker <strong>{created.name}</strong> created. Its token is shown <strong>only this once</strong>: start the
            worker with it now or keep it somewhere safe.
          </p>
          <p className="secret" data-testid="worker-token">
            {created.token}
          </p>
          <div className="row">
            <CopyButton text={created.token} label="Copy token" />
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
