import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { CopyButton, ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";

/** runCommand: the exact command that starts the worker from a checkout of Miyabi. */
export function runCommand(apiURL: string, w: Pick<Schema<"CreatedWorker">, "token" | "max_concurrency" | "agent_types">): string {
  const types = (w.agent_types ?? []).length ? ` --agent-types ${(w.agent_types ?? []).join(",")}` : "";
  return `MIYABI_API_URL=${apiURL} MIYABI_WORKER_TOKEN=${w.token} go run ./app/worker --concurrency ${w.max_concurrency}${types}`;
}

/** Creates a worker and shows its token once (the API keeps only a hash), with how to run it. */
export function NewWorker({ onCreated }: { onCreated: () => void }) {
  const { api, apiBase } = useSession();
  const t = useT();
  const [name, setName] = useState("");
  const [concurrency, setConcurrency] = useState(1);
  const [agentTypes, setAgentTypes] = useState("");
  const [created, setCreated] = useState<Schema<"CreatedWorker"> | null>(null);
  const create = useAction(async () => {
    const types = agentTypes.split(",").map((s) => s.trim()).filter(Boolean);
    const w = await unwrap(api.POST("/workers", { body: { name: name.trim(), max_concurrency: concurrency, agent_types: types.length ? types : undefined } }));
    setCreated(w);
    setName("");
    onCreated();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    void create.exec();
  };
  const apiURL = new URL(apiBase, window.location.origin).toString().replace(/\/$/, "");
  return (
    <div className="panel">
      <form className="form-row" onSubmit={submit} aria-label={t.workers.create}>
        <div className="field">
          <label htmlFor="worker-name">{t.workers.name}</label>
          <input id="worker-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="worker-concurrency">{t.workers.concurrency}</label>
          <input id="worker-concurrency" type="number" min={1} required value={concurrency} onChange={(e) => setConcurrency(Number(e.target.value))} />
        </div>
        <div className="field">
          <label htmlFor="worker-types">{t.workers.typesHelp}</label>
          <input id="worker-types" value={agentTypes} onChange={(e) => setAgentTypes(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={create.pending || name.trim() === ""}>
          {t.workers.create}
        </button>
      </form>
      {create.error && <ErrorView error={create.error} title={t.workers.notCreated} />}
      {created && (
        <div role="status">
          <p>{t.workers.tokenOnce(created.name)}</p>
          <p className="secret" data-testid="worker-token">
            {created.token}
          </p>
          <p>{t.workers.runIt}</p>
          <pre className="secret command" data-testid="worker-command">
            {runCommand(apiURL, created)}
          </pre>
          <div className="row">
            <CopyButton text={runCommand(apiURL, created)} label={t.workers.copyCommand} />
            <CopyButton text={created.token} label={t.workers.copyToken} />
            <button type="button" onClick={() => setCreated(null)}>
              {t.workers.done}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
