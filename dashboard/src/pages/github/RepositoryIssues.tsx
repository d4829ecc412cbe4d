import { useState } from "react";
import { unwrap } from "../../api/client";
import type { PageProps } from "../../routes";
import { useSession } from "../../session/session";
import { Link, navigate } from "../../router/router";
import { Empty, ErrorView, Page, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

const perPage = 20;

/** A repository's open issues on GitHub, each with "launch an agent on this". */
export default function RepositoryIssues({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, canSomewhere } = useSession();
  const [page, setPage] = useState(1);
  const repo = useApiData(() => unwrap(api.GET("/repositories/{id}", { params: { path: { id } } })), [id]);
  const issues = useApiData(
    () => unwrap(api.GET("/repositories/{id}/issues", { params: { path: { id }, query: { page, limit: perPage } } })),
    [id, page],
  );
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  const [agentFor, setAgentFor] = useState<Record<number, string>>({});
  const mayLaunch = canSomewhere("agents.execute");
  const launch = useAction(async (issue: number, agentType: string) => {
    const out = await unwrap(
      api.POST("/agents/execute", {
        params: { header: { "Idempotency-Key": crypto.randomUUID() } },
        body: { repository_id: id, issue_number: issue, agent_type: agentType },
      }),
    );
    navigate(`/executions/${out.execution.id}`);
  });
  const title = repo.status === "ready" ? `Issues of ${repo.data.full_name}` : "Issues";

  return (
    <Page title={title} actions={<Link to="/repositories">All repositories</Link>}>
      {repo.status === "ready" && !repo.data.is_active && (
        <p className="error">
          This repository is deactivated{repo.data.inactive_reason ? `: ${repo.data.inactive_reason}` : "."} Agents cannot be launched on it.
        </p>
      )}
      {launch.error && <ErrorView error={launch.error} title="The agent was not launched" />}
      <Show data={issues} what="the issues from GitHub">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No open issues{page > 1 ? " on this page" : ""}.</Empty>
          ) : (
            <>
              <ul className="stack issue-list" aria-label="Open issues">
                {(p.items ?? []).map((is) => {
                  const chosen = agentFor[is.number] ?? "codegen";
                  return (
                    <li key={is.number} className="panel">
                      <div className="row">
                        <a href={is.url} target="_blank" rel="noreferrer noopener">
                          #{is.number} {is.title}
                        </a>
                        <span className="muted small">by {is.author}</span>
                        {(is.labels ?? []).map((l) => (
                          <span key={l.name} className="badge" style={{ borderColor: `#${/^[0-9a-fA-F]{6}$/.test(l.color) ? l.color : "999999"}` }}>
                            {l.name}
                          </span>
                        ))}
                      </div>
                      {mayLaunch && agents.status === "ready" && (
                        <div className="row">
                          <label className="visually-hidden" htmlFor={`agent-${is.number}`}>
                            Agent for #{is.number}
                          </label>
                          <select
                            id={`agent-${is.number}`}
                            value={chosen}
                            onChange={(e) => setAgentFor({ ...agentFor, [is.number]: e.target.value })}
                          >
                            {(agents.data.items ?? []).map((a) => (
                              <option key={a.type} value={a.type}>
                                {a.name} ({a.type})
                              </option>
                            ))}
                          </select>
                          <button type="button" className="primary" disabled={launch.pending} onClick={() => void launch.exec(is.number, chosen)}>
                            Launch an agent on this<span className="visually-hidden"> (#{is.number})</span>
                          </button>
                        </div>
                      )}
                    </li>
                  );
                })}
              </ul>
              <nav className="row" aria-label="Issue pages">
                <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                  Previous
                </button>
                <span className="muted small">Page {page}</span>
                <button type="button" disabled={!p.has_next} onClick={() => setPage(page + 1)}>
                  Next
                </button>
              </nav>
            </>
          )
        }
      </Show>
    </Page>
  );
}
