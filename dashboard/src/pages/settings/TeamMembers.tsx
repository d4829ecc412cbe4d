import { useEffect, useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { ErrorView } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { useT } from "../../i18n/i18n";
import { DataTable, type Column } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";

type TeamRole = Schema<"AddTeamMemberInputBody">["role"];
type TeamMember = Schema<"TeamMemberOut">;
type Member = Schema<"MemberOut">;

/** How many candidates the picker shows at once: more are found by typing. */
export const pickerLimit = 50;
/** Typing pauses this long (ms) before the organization's members are searched. */
const searchDelayMs = 250;

/**
 * useMemberSearch finds active organization members by login or name as the user types
 * (the API's q, in an organization of any size), keeping the last answer on screen while
 * the next one loads.
 */
function useMemberSearch(enabled: boolean, text: string) {
  const { api, me } = useSession();
  const orgId = me.organization.id;
  const typed = text.trim();
  const [q, setQ] = useState(typed);
  useEffect(() => {
    const timer = window.setTimeout(() => setQ(typed), searchDelayMs);
    return () => window.clearTimeout(timer);
  }, [typed]);
  const found = useApiData(
    () =>
      enabled
        ? unwrap(api.GET("/organizations/{id}/members", { params: { path: { id: orgId }, query: { q: q || undefined, status: "active", limit: pickerLimit } } }))
        : Promise.resolve(null),
    [orgId, enabled, q],
  );
  const [last, setLast] = useState<Schema<"PageMemberOut"> | null>(null);
  useEffect(() => {
    if (found.status === "ready") setLast(found.data);
  }, [found.status, found.data]);
  return { page: found.status === "ready" ? found.data : last, searching: q !== typed || found.status === "loading", error: found.error };
}

export function TeamMembers({ teamId, teamName, onChange }: { teamId: string; teamName: string; onChange: () => void }) {
  const { api, me, can } = useSession();
  const orgId = me.organization.id;
  const t = useT();
  const path = { id: orgId, team_id: teamId };
  const members = useListQuery("/organizations/{id}/teams/{team_id}/members", [], { params: { path }, prefix: "team-members." });
  const manage = can("teams.update");
  // Candidates: active organization members (only searched by those who may read them).
  const pick = manage && can("organization.members.read");
  const [text, setText] = useState("");
  const search = useMemberSearch(pick, text);
  const candidates: Member[] = search.page?.items ?? [];
  const [userId, setUserId] = useState("");
  // A choice the search no longer shows is no choice.
  const chosen = candidates.some((m) => m.user_id === userId) ? userId : "";
  const [role, setRole] = useState<TeamRole>("member");
  const add = useAction(async () => {
    await unwrap(api.POST("/organizations/{id}/teams/{team_id}/members", { params: { path }, body: { user_id: chosen, role } }));
    setUserId("");
    setText("");
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

  const columns: Column<TeamMember>[] = [
    {
      header: t.members.member,
      cell: (m) => (
        <>
          <strong>{m.login}</strong> {m.name && <span className="muted">{m.name}</span>}
        </>
      ),
    },
    { header: t.teamMembers.role, cell: (m) => t.roles[m.role] },
    {
      header: t.common.actions,
      show: manage,
      cell: (m) => (
        <button type="button" disabled={remove.pending} onClick={() => void remove.exec(m.user_id)}>
          {t.common.remove}
          <span className="visually-hidden"> {t.teamMembers.fromTeam(m.login)}</span>
        </button>
      ),
    },
  ];

  const foundText = search.searching ? t.teamMembers.searching : t.teamMembers.found(candidates.length, search.page?.total ?? 0);
  return (
    <div>
      <DataTable
        data={members.list}
        what={t.teamMembers.what}
        caption={t.teamMembers.caption(teamName)}
        rowKey={(m) => m.user_id}
        columns={columns}
        empty={t.teamMembers.empty}
        onPage={members.setPage}
      />
      {remove.error && <ErrorView error={remove.error} title={t.teamMembers.notRemoved} />}
      {pick && (
        <form className="form-row" onSubmit={submit} aria-label={t.teamMembers.addTo(teamName)}>
          <div className="field">
            <label htmlFor={`tm-find-${teamId}`}>{t.teamMembers.find}</label>
            <input
              id={`tm-find-${teamId}`}
              type="search"
              autoComplete="off"
              maxLength={100}
              value={text}
              aria-describedby={`tm-found-${teamId}`}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`tm-user-${teamId}`}>{t.teamMembers.add}</label>
            <select id={`tm-user-${teamId}`} value={chosen} onChange={(e) => setUserId(e.target.value)} required>
              <option value="">{t.teamMembers.choose}</option>
              {candidates.map((m) => (
                <option key={m.user_id} value={m.user_id}>
                  {m.name ? `${m.login} (${m.name})` : m.login}
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
          <button type="submit" disabled={add.pending || chosen === ""}>
            {t.teamMembers.addButton}
          </button>
        </form>
      )}
      {pick && (
        <p id={`tm-found-${teamId}`} className="muted" role="status">
          {foundText}
        </p>
      )}
      {search.error && <ErrorView error={search.error} title={t.teamMembers.searchFailed} />}
      {add.error && <ErrorView error={add.error} title={t.teamMembers.notAdded} />}
    </div>
  );
}
