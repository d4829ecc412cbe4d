import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { Empty, ErrorView, Page, Pagination, Show, StatusBadge } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

type Repository = Schema<"RepositoryOut">;

export default function Repositories() {
  const { api, me, can } = useSession();
  const [page, setPage] = useState(1);
  const repos = useApiData(() => unwrap(api.GET("/repositories", { params: { query: { page, limit: 20 } } })), [page]);
  const teams = useApiData(
    () =>
      can("teams.read")
        ? unwrap(api.GET("/organizations/{id}/teams", { params: { path: { id: me.organization.id }, query: { limit: 100 } } }))
        : Promise.resolve(null),
    [me.organization.id],
  );
  const write = can("repositories.write");
  const [fullName, setFullName] = useState("");
  const add = useAction(async () => {
    await unwrap(api.POST("/repositories", { body: { full_name: fullName.trim() } }));
    setFullName("");
    repos.reload();
  });
  const patch = useAction(async (r: Repository, body: Schema<"UpdateRepositoryInputBody">) => {
    await unwrap(api.PATCH("/repositories/{id}", { params: { path: { id: r.id } }, body }));
    repos.reload();
  });
  const remove = useAction(async (r: Repository) => {
    await unwrap(api.DELETE("/repositories/{id}", { params: { path: { id: r.id } } }));
    repos.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void add.exec();
  };
  const teamList = teams.status === "ready" && teams.data ? (teams.data.items ?? []) : [];
  const teamName = (id: string) => teamList.find((t) => t.id === id)?.name;

  return (
    <Page title="Repositories">
      {write && (
        <form className="form-row panel" onSubmit={submit} aria-label="Add a repository">
          <div className="field">
            <label htmlFor="repo-full-name">GitHub repository (owner/name)</label>
            <input
              id="repo-full-name"
              required
              placeholder="miyabi-demo/agent-playground"
              value={fullName}
              onChange={(e) => setFullName(e.target.value)}
            />
          </div>
          <button type="submit" className="primary" disabled={add.pending || !fullName.includes("/")}>
            {add.pending ? "Adding…" : "Add repository"}
          </button>
        </form>
      )}
      {add.error && <ErrorView error={add.error} title="Repository not added" />}
      {patch.error && <ErrorView error={patch.error} title="Repository not changed" />}
      {remove.error && <ErrorView error={remove.error} title="Repository not removed" />}
      {teams.status === "error" && <ErrorView error={teams.error} title="Teams could not be loaded" />}
      <Show data={repos} what="repositories">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No repositories yet.{write && " Add one from GitHub above."}</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Repository</th>
                      <th scope="col">Default branch</th>
                      <th scope="col">Status</th>
                      <th scope="col">Team</th>
                      <th scope="col">Issues</th>
                      {(write || can("repositories.delete")) && <th scope="col">Actions</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((r) => (
                      <tr key={r.id}>
                        <td>
                          <strong>{r.full_name}</strong> {r.is_private && <span className="badge">private</span>}
                        </td>
                        <td>
                          <code>{r.default_branch}</code>
                        </td>
                        <td>
                          <StatusBadge status={r.is_active ? "active" : "inactive"} />
                          {r.inactive_reason && <p className="muted small">{r.inactive_reason}</p>}
                        </td>
                        <td>
                          {write && teams.status === "ready" && teams.data ? (
                            <select
                              aria-label={`Team of ${r.full_name}`}
                              value={r.team_id ?? ""}
                              disabled={patch.pending}
                              onChange={(e) => void patch.exec(r, { team_id: e.target.value || null })}
                            >
                              <option value="">no team</option>
                              {teamList.map((t) => (
                                <option key={t.id} value={t.id}>
                                  {t.name}
                                </option>
                              ))}
                            </select>
                          ) : (
                            (r.team_id && (teamName(r.team_id) ?? r.team_id.slice(0, 8))) || <span className="muted">—</span>
                          )}
                        </td>
                        <td>
                          {r.app_installed ? (
                            <Link to={`/repositories/${r.id}/issues`}>
                              Issues<span className="visually-hidden"> of {r.full_name}</span>
                            </Link>
                          ) : (
                            <span className="muted small">GitHub App not installed</span>
                          )}
                        </td>
                        {(write || can("repositories.delete")) && (
                          <td className="row">
                            {write && (
                              <button type="button" disabled={patch.pending} onClick={() => void patch.exec(r, { is_active: !r.is_active })}>
                                {r.is_active ? "Deactivate" : "Activate"}
                                <span className="visually-hidden"> {r.full_name}</span>
                              </button>
                            )}
                            {can("repositories.delete") && (
                              <button
                                type="button"
                                className="danger"
                                disabled={remove.pending}
                                onClick={() => {
                                  if (window.confirm(`Remove ${r.full_name} from Miyabi?`)) void remove.exec(r);
                                }}
                              >
                                Remove<span className="visually-hidden"> {r.full_name}</span>
                              </button>
                            )}
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
            </>
          )
        }
      </Show>
    </Page>
  );
}
