import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Pagination, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { TeamMembers } from "./TeamMembers";
import { InlineRename } from "../../ui/InlineRename";
import { toApiError } from "../../api/problem";

export function Teams() {
  const { api, me, can } = useSession();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const teams = useApiData(
    () => unwrap(api.GET("/organizations/{id}/teams", { params: { path: { id: orgId }, query: { page, limit: 20 } } })),
    [orgId, page],
  );
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useAction(async () => {
    await unwrap(api.POST("/organizations/{id}/teams", { params: { path: { id: orgId } }, body: { name: name.trim(), description: description.trim() || undefined } }));
    setName("");
    setDescription("");
    teams.reload();
  });
  const remove = useAction(async (teamId: string) => {
    await unwrap(api.DELETE("/organizations/{id}/teams/{team_id}", { params: { path: { id: orgId, team_id: teamId } } }));
    teams.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.exec();
  };

  return (
    <section aria-labelledby="teams-h">
      <h2 id="teams-h">Teams</h2>
      {can("teams.create") && (
        <form className="form-row" onSubmit={submit}>
          <div className="field">
            <label htmlFor="team-name">Team name</label>
            <input id="team-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="team-description">Description (optional)</label>
            <input id="team-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <button type="submit" disabled={create.pending || name.trim() === ""}>
            Create team
          </button>
        </form>
      )}
      {create.error && <ErrorView error={create.error} title="Team not created" />}
      {remove.error && <ErrorView error={remove.error} title="Team not deleted" />}
      <Show data={teams} what="teams">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No teams yet.</Empty>
          ) : (
            <>
              <ul className="plain-list">
                {(p.items ?? []).map((t) => (
                  <li key={t.id} className="panel">
                    <div className="row">
                      <strong>{t.name}</strong> <code className="muted">{t.slug}</code>
                      <span className="muted">
                        {t.member_count} member{t.member_count === 1 ? "" : "s"}
                      </span>
                      <span className="row push-right">
                        <button type="button" aria-expanded={open === t.id} onClick={() => setOpen(open === t.id ? null : t.id)}>
                          {open === t.id ? "Hide members" : "Members"}
                          <span className="visually-hidden"> of {t.name}</span>
                        </button>
                        {can("teams.update") && (
                          <InlineRename
                            what={`team ${t.name}`}
                            value={t.name}
                            onSave={async (n) => {
                              try {
                                await unwrap(api.PATCH("/organizations/{id}/teams/{team_id}", { params: { path: { id: orgId, team_id: t.id } }, body: { name: n } }));
                                teams.reload();
                                return null;
                              } catch (err) {
                                return toApiError(err);
                              }
                            }}
                          />
                        )}
                        {can("teams.delete") && (
                          <button
                            type="button"
                            className="danger"
                            disabled={remove.pending}
                            onClick={() => {
                              if (window.confirm(`Delete team ${t.name}?`)) void remove.exec(t.id);
                            }}
                          >
                            Delete<span className="visually-hidden"> team {t.name}</span>
                          </button>
                        )}
                      </span>
                    </div>
                    {t.description && <p className="muted">{t.description}</p>}
                    {open === t.id && <TeamMembers teamId={t.id} onChange={teams.reload} />}
                  </li>
                ))}
              </ul>
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
            </>
          )
        }
      </Show>
    </section>
  );
}
