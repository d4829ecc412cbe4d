import { useState } from "react";
import { unwrap } from "../../api/client";
import type { PageProps } from "../../routes";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { Link, navigate } from "../../router/router";
import { Empty, ErrorView, Page, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

const perPage = 20;

/** A repository's open issues on GitHub, each with "launch an agent on this". */
export default function RepositoryIssues({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, canSomewhere } = useSession();
  const t = useT();
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
  const title = repo.status === "ready" ? t.issues.titleOf(repo.data.full_name) : t.issues.title;

  return (
    <Page title={title} actions={<Link to="/repositories">{t.issues.allRepositories}</Link>}>
      {repo.status === "ready" && !repo.data.is_active && <p className="error">{t.issues.deactivated(repo.data.inactive_reason ?? "")}</p>}
      {launch.error && <ErrorView error={launch.error} title={t.issues.notLaunched} />}
      <Show data={issues} what={t.issues.what}>
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>{page > 1 ? t.issues.noneOnPage : t.issues.none}</Empty>
          ) : (
            <>
              <ul className="stack issue-list" aria-label={t.issues.list}>
                {(p.items ?? []).map((is) => {
                  const chosen = agentFor[is.number] ?? "codegen";
                  return (
                    <li key={is.number} className="panel">
                      <div className="row">
                        <a href={is.url} target="_blank" rel="noreferrer noopener">
                          #{is.number} {is.title}
                        </a>
                        <span className="muted small">{t.issues.by(is.author)}</span>
                        {(is.labels ?? []).map((l) => (
                          <span key={l.name} className="badge" style={{ borderColor: `#${/^[0-9a-fA-F]{6}$/.test(l.color) ? l.color : "999999"}` }}>
                            {l.name}
                          </span>
                        ))}
                      </div>
                      {mayLaunch && agents.status === "ready" && (
                        <div className="row">
                          <label className="visually-hidden" htmlFor={`agent-${is.number}`}>
                            {t.issues.agentFor(is.number)}
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
                            {t.issues.launch}
                            <span className="visually-hidden">{t.issues.launchWhich(is.number)}</span>
                          </button>
                        </div>
                      )}
                    </li>
                  );
                })}
              </ul>
              <nav className="row" aria-label={t.issues.pages}>
                <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                  {t.pagination.previous}
                </button>
                <span className="muted small">{t.issues.page(page)}</span>
                <button type="button" disabled={!p.has_next} onClick={() => setPage(page + 1)}>
                  {t.pagination.next}
                </button>
              </nav>
            </>
          )
        }
      </Show>
    </Page>
  );
}
