import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { useT } from "../../i18n/i18n";

type TeamRole = Schema<"AddTeamMemberInputBody">["role"];

export function TeamMembers({ teamId, onChange }: { teamId: string; onChange: () => void }) {
  const { api, me, can } = useSession();
  const orgId = me.organization.id;
  const t = useT();
  const path = { id: orgId, team_id: teamId };
  const members = useApiData(() => unwrap(api.GET("/organizations/{id}/teams/{team_id}/members", { params: { path } })), [orgId, teamId]);
  const manage = can("teams.update");
  // Candidates: active organization members (only listed to those who may read them).
  const orgMembers = useApiData(
    () =>
      manage && can("organization.members.read")
        ? unwrap(api.GET("/organizations/{id}/members", { params: { path: { id: orgId }, query: { limit: 100 } } }))
        : Promise.resolve(null),
    [orgId, manage],
  );
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState<TeamRole>("member");
  const add = useAction(async () => {
    await unwrap(api.POST("/organizations/{id}/teams/{team_id}/members", { params: { path }, body: { user_id: userId, role } }));
    setUserId("");
    members.reload();
    onChange();
  });
  const remove = useAction(async (uid: string) => {
    await unwrap(api.DELETE("/organizations/{id}/teams/{team_id}/members/{user_id}", { params: { path: { ...path, user_id: uid } } }));
    members.reload();
    onChange();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void add.exec();
  };

  return (
    <div>
      <Show data={members} what={t.teamMembers.what}>
        {(l) =>
          (l.items ?? []).length === 0 ? (
            <Empty>{t.teamMembers.empty}</Empty>
          ) : (
            <ul>
              {(l.items ?? []).map((m) => (
                <li key={m.user_id} className="row">
                  <span>
                    {m.login} <span className="muted">({t.roles[m.role as keyof typeof t.roles] ?? m.role})</span>
                  </span>
                  {manage && (
                    <button type="button" disabled={remove.pending} onClick={() => void remove.exec(m.user_id)}>
                      {t.common.remove}<span className="visually-hidden"> {t.teamMembers.fromTeam(m.login)}</span>
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      {remove.error && <ErrorView error={remove.error} title={t.teamMembers.notRemoved} />}
      {manage && orgMembers.status === "ready" && orgMembers.data && (
        <form className="form-row" onSubmit={submit}>
          <div className="field">
            <label htmlFor={`tm-user-${teamId}`}>{t.teamMembers.add}</label>
            <select id={`tm-user-${teamId}`} value={userId} onChange={(e) => setUserId(e.target.value)} required>
              <option value="">{t.teamMembers.choose}</option>
              {(orgMembers.data.items ?? [])
                .filter((m) => m.status === "active")
                .map((m) => (
                  <option key={m.user_id} value={m.user_id}>
                    {m.login}
                  </option>
                ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`tm-role-${teamId}`}>{t.teamMembers.role}</label>
            <select id={`tm-role-${teamId}`} value={role} onChange={(e) => setRole(e.target.value as TeamRole)}>
              <option value="member">{t.roles.member}</option>
              <option value="lead">{t.roles.lead}</option>
            </select>
          </div>
          <button type="submit" disabled={add.pending || userId === ""}>
            {t.teamMembers.addButton}
          </button>
        </form>
      )}
      {orgMembers.status === "error" && <ErrorView error={orgMembers.error} />}
      {add.error && <ErrorView error={add.error} title={t.teamMembers.notAdded} />}
    </div>
  );
}
