import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { useT } from "../../i18n/i18n";
import { DataTable } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { navigate, useLocation, withQuery } from "../../router/router";
import { SlugField, useSuggestedSlug } from "../../ui/SlugField";
import { TeamMembers } from "./TeamMembers";
import { InlineRename } from "../../ui/InlineRename";
import { toApiError } from "../../api/problem";

export function Teams() {
  const { api, me, can } = useSession();
  const orgId = me.organization.id;
  const t = useT();
  // The team whose members are shown is in the address (a link, kept on reload); another
  // team starts at the first page of its members.
  const { path: here, query } = useLocation();
  const open = query.get("teams.open");
  const setOpen = (id: string | null) => navigate(withQuery(here, query, { "teams.open": id ?? undefined, "team-members.page": undefined }), { replace: true });
  const teams = useListQuery("/organizations/{id}/teams", [], { params: { path: { id: orgId } }, prefix: "teams." });
  const [name, setName] = useState("");
  const [slug, setSlug] = useState<string | undefined>(undefined);
  const suggested = useSuggestedSlug(name, "team");
  const [description, setDescription] = useState("");
  const create = useAction(async () => {
    await unwrap(api.POST("/organizations/{id}/teams", { params: { path: { id: orgId } }, body: { name: name.trim(), slug: slug || suggested || undefined, description: description.trim() || undefined } }));
    setName("");
    setSlug(undefined);
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
      <h2 id="teams-h">{t.teams.title}</h2>
      {can("teams.create") && (
        <form className="form-row" onSubmit={submit}>
          <div className="field">
            <label htmlFor="team-name">{t.teams.name}</label>
            <input id="team-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <SlugField id="team-slug" name={name} value={slug} onChange={setSlug} />
          <div className="field">
            <label htmlFor="team-description">{t.teams.description}</label>
            <input id="team-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <button type="submit" disabled={create.pending || name.trim() === ""}>
            {t.teams.create}
          </button>
        </form>
      )}
      {create.error && <ErrorView error={create.error} title={t.teams.notCreated} />}
      {remove.error && <ErrorView error={remove.error} title={t.teams.notDeleted} />}
      <DataTable
        data={teams.list}
        what={t.teams.title}
        caption={t.teams.title}
        rowKey={(x) => x.id}
        empty={t.teams.empty}
        onPage={teams.setPage}
        item={(x) => (
                  <>
                    <div className="row">
                      <strong>{x.name}</strong> <code className="muted">{x.slug}</code>
                      <span className="muted">{t.teams.memberCount(x.member_count)}</span>
                      <span className="row push-right">
                        <button type="button" aria-expanded={open === x.id} onClick={() => setOpen(open === x.id ? null : x.id)}>
                          {open === x.id ? t.teams.hideMembers : t.teams.members}
                          <span className="visually-hidden"> {t.teams.of(x.name)}</span>
                        </button>
                        {can("teams.update") && (
                          <InlineRename
                            what={t.teams.what(x.name)}
                            value={x.name}
                            onSave={async (n) => {
                              try {
                                await unwrap(api.PATCH("/organizations/{id}/teams/{team_id}", { params: { path: { id: orgId, team_id: x.id } }, body: { name: n } }));
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
                              if (window.confirm(t.teams.confirmDelete(x.name))) void remove.exec(x.id);
                            }}
                          >
                            {t.common.delete}<span className="visually-hidden"> {t.teams.what(x.name)}</span>
                          </button>
                        )}
                      </span>
                    </div>
                    {x.description && <p className="muted">{x.description}</p>}
                    {open === x.id && <TeamMembers teamId={x.id} teamName={x.name} onChange={teams.reload} />}
                  </>
        )}
      />
    </section>
  );
}
