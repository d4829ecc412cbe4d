import { useMemo, useState, type FormEvent } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { Link, navigate } from "../router/router";
import { Empty, ErrorView, Page, Show } from "../ui/states";
import { useAction, useApiData } from "../ui/useApiData";
import { parseIssueUrl } from "./github/issueUrl";

/** Launch an agent on an issue; the new execution opens when the API has queued it. */
export default function Launch() {
  const { api, can } = useSession();
  const repos = useApiData(() => unwrap(api.GET("/repositories", { params: { query: { limit: 100 } } })), []);
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  const [repositoryId, setRepositoryId] = useState("");
  const [issue, setIssue] = useState("");
  const [agentType, setAgentType] = useState("");
  const [issueUrl, setIssueUrl] = useState("");
  const [urlNote, setUrlNote] = useState("");
  // One key per attempt: a double submit or a retried request launches once.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [repositoryId, issue, agentType]);
  const launch = useAction(async () => {
    const out = await unwrap(
      api.POST("/agents/execute", {
        params: { header: { "Idempotency-Key": idempotencyKey } },
        body: { repository_id: repositoryId, issue_number: Number(issue), agent_type: agentType },
      }),
    );
    navigate(`/executions/${out.execution.id}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void launch.exec();
  };
  const ready = repositoryId !== "" && agentType !== "" && Number(issue) >= 1;

  return (
    <Page title="Launch an agent">
      <Show data={repos} what="repositories">
        {(r) => {
          const active = (r.items ?? []).filter((x) => x.is_active);
          if (active.length === 0)
            return (
              <Empty>
                No active repository yet. {can("repositories.write") && <Link to="/repositories">Add one first.</Link>}
              </Empty>
            );
          // A pasted issue URL fills in the repository and the issue number.
          const pasteUrl = (text: string) => {
            setIssueUrl(text);
            if (text.trim() === "") return setUrlNote("");
            const ref = parseIssueUrl(text);
            if (!ref) return setUrlNote("Not a GitHub issue URL (https://github.com/owner/name/issues/12).");
            const repo = active.find((x) => x.full_name.toLowerCase() === ref.fullName.toLowerCase());
            if (!repo) return setUrlNote(`${ref.fullName} is not an active repository of this organization; add it on the Repositories page first.`);
            setRepositoryId(repo.id);
            setIssue(String(ref.number));
            setUrlNote(`${repo.full_name} #${ref.number}`);
          };
          return (
            <Show data={agents} what="agent types">
              {(a) => (
                <form className="stack panel" onSubmit={submit}>
                  <div className="field">
                    <label htmlFor="launch-issue-url">GitHub issue URL (optional)</label>
                    <input
                      id="launch-issue-url"
                      type="url"
                      placeholder="https://github.com/owner/name/issues/12"
                      value={issueUrl}
                      onChange={(e) => pasteUrl(e.target.value)}
                      aria-describedby="launch-issue-url-note"
                    />
                    <p id="launch-issue-url-note" className="muted small" role="status">
                      {urlNote}
                    </p>
                  </div>
                  <div className="field">
                    <label htmlFor="launch-repo">Repository</label>
                    <select id="launch-repo" required value={repositoryId} onChange={(e) => setRepositoryId(e.target.value)}>
                      <option value="">Choose a repository…</option>
                      {active.map((x) => (
                        <option key={x.id} value={x.id}>
                          {x.full_name}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div className="field">
                    <label htmlFor="launch-issue">Issue number</label>
                    <input id="launch-issue" type="number" min={1} required inputMode="numeric" value={issue} onChange={(e) => setIssue(e.target.value)} />
                  </div>
                  <div className="field">
                    <label htmlFor="launch-agent">Agent type</label>
                    <select id="launch-agent" required value={agentType} onChange={(e) => setAgentType(e.target.value)}>
                      <option value="">Choose an agent…</option>
                      {(a.items ?? []).map((x) => (
                        <option key={x.type} value={x.type}>
                          {x.name} ({x.type}, {x.layer}) · {x.online_workers} worker{x.online_workers === 1 ? "" : "s"} online
                        </option>
                      ))}
                    </select>
                    {agentType && (
                      <p className="muted small">{(a.items ?? []).find((x) => x.type === agentType)?.description}</p>
                    )}
                  </div>
                  <div>
                    <button type="submit" className="primary" disabled={!ready || launch.pending}>
                      {launch.pending ? "Launching…" : "Launch"}
                    </button>
                  </div>
                  {launch.error && <ErrorView error={launch.error} title="The agent was not launched" />}
                </form>
              )}
            </Show>
          );
        }}
      </Show>
    </Page>
  );
}
