import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { Link } from "../../router/router";
import { DataTable, type Column } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { ErrorView, Page, StatusBadge } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { parseGitHubRef } from "../executions/links";

type Repository = Schema<"RepositoryOut">;

export default function Repositories() {
  const { api, me, can } = useSession();
  const t = useT();
  const q = useListQuery("/repositories", []);
  const teams = useApiData(
    () =>
      can("teams.read")
        ? unwrap(api.GET("/organizations/{id}/teams", { params: { path: { id: me.organization.id }, query: { limit: 100 } } }))
        : Promise.resolve(null),
    [me.organization.id],
  );
  const write = can("repositories.write");
  const mayDelete = can("repositories.delete");
  const [input, setInput] = useState("");
  // A pasted GitHub URL (of the repository or one of its issues) is read as owner/name.
  const ref = parseGitHubRef(input);
  const add = useAction(async (fullName: string) => {
    await unwrap(api.POST("/repositories", { body: { full_name: fullName } }));
    setInput("");
    q.reload();
  });
  const patch = useAction(async (r: Repository, body: Schema<"UpdateRepositoryInputBody">) => {
    await unwrap(api.PATCH("/repositories/{id}", { params: { path: { id: r.id } }, body }));
    q.reload();
  });
  const remove = useAction(async (r: Repository) => {
    await unwrap(api.DELETE("/repositories/{id}", { params: { path: { id: r.id } } }));
    q.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ref) void add.exec(ref.fullName);
  };
  const teamList = teams.status === "ready" && teams.data ? (teams.data.items ?? []) : [];
  const teamName = (id: string) => teamList.find((x) => x.id === id)?.name;
  const columns: Column<Repository>[] = [
    {
      header: t.common.repository,
      cell: (r) => (
        <>
          <a href={`https://github.com/${r.full_name}`} target="_blank" rel="noreferrer">
            <strong>{r.full_name}</strong>
          </a>{" "}
          {r.is_private && <span className="badge">{t.repositories.private}</span>}
        </>
      ),
    },
    { header: t.repositories.defaultBranch, priority: "low", cell: (r) => <code>{r.default_branch}</code> },
    {
      header: t.repositories.issues,
      cell: (r) =>
        r.app_installed ? (
          <Link to={`/repositories/${r.id}/issues`} aria-label={t.repositories.issuesOf(r.full_name)}>
            {t.repositories.issues}
          </Link>
        ) : (
          <span className="muted small">{t.repositories.appNotInstalled}</span>
        ),
    },
    { header: t.common.status, cell: (r) => <StatusBadge status={r.is_active ? "active" : "inactive"} /> },
    {
      header: t.repositories.team,
      priority: "low",
      cell: (r) =>
        write && teams.status === "ready" && teams.data ? (
          <select aria-label={t.repositories.teamOf(r.full_name)} value={r.team_id ?? ""} disabled={patch.pending} onChange={(e) => void patch.exec(r, { team_id: e.target.value || null })}>
            <option value="">{t.repositories.noTeam}</option>
            {teamList.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
          </select>
        ) : (
          (r.team_id && (teamName(r.team_id) ?? r.team_id.slice(0, 8))) || <span className="muted">—</span>
        ),
    },
    {
      header: t.common.actions,
      show: write || mayDelete,
      cell: (r) => (
        <div className="row">
          {write && (
            <button type="button" disabled={patch.pending} onClick={() => void patch.exec(r, { is_active: !r.is_active })}>
              {r.is_active ? t.repositories.deactivate : t.repositories.activate}
              <span className="visually-hidden"> {r.full_name}</span>
            </button>
          )}
          {mayDelete && (
            <button
              type="button"
              className="danger"
              disabled={remove.pending}
              onClick={() => {
                if (window.confirm(t.repositories.confirmRemove(r.full_name))) void remove.exec(r);
              }}
            >
              {t.common.remove}
              <span className="visually-hidden"> {r.full_name}</span>
            </button>
          )}
        </div>
      ),
    },
  ];

  return (
    <Page title={t.nav.repositories}>
      {write && (
        <form className="form-row panel" onSubmit={submit} aria-label={t.repositories.add}>
          <div className="field grow">
            <label htmlFor="repo-full-name">{t.repositories.inputLabel}</label>
            <input id="repo-full-name" required placeholder="miyabi-demo/agent-playground" value={input} onChange={(e) => setInput(e.target.value)} />
            {ref && input.trim() !== ref.fullName && <span className="muted small">{t.repositories.willAdd(ref.fullName)}</span>}
          </div>
          <button type="submit" className="primary" disabled={add.pending || !ref}>
            {add.pending ? t.repositories.adding : t.repositories.add}
          </button>
        </form>
      )}
      {add.error && (
        <ErrorView
          error={add.error}
          title={t.repositories.notAdded}
          messages={(field, message) => (field === "full_name" && /no repository/i.test(message) && ref ? t.errors.noSuchRepo(ref.fullName) : null)}
        />
      )}
      {patch.error && <ErrorView error={patch.error} title={t.repositories.notChanged} />}
      {remove.error && <ErrorView error={remove.error} title={t.repositories.notRemoved} />}
      {teams.status === "error" && <ErrorView error={teams.error} title={t.repositories.teamsFailed} />}
      <DataTable
        data={q.list}
        what={t.nav.repositories}
        caption={t.nav.repositories}
        rowKey={(r) => r.id}
        columns={columns}
        empty={`${t.repositories.empty}${write ? ` ${t.repositories.emptyAdd}` : ""}`}
        onPage={q.setPage}
      />
    </Page>
  );
}
