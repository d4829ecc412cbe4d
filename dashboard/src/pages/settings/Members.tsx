import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { ErrorView, StatusBadge, Time } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { useT } from "../../i18n/i18n";
import { DataTable, type Column } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";

type Member = Schema<"MemberOut">;

type Role = Schema<"MemberOut">["role"];
type Status = NonNullable<Schema<"UpdateMemberInputBody">["status"]>;
const roles: Role[] = ["owner", "admin", "member", "viewer"];

export function Members() {
  const { api, me, can } = useSession();
  const orgId = me.organization.id;
  const t = useT();
  const q = useListQuery("/organizations/{id}/members", [], { params: { path: { id: orgId } }, prefix: "members." });
  const members = q;
  const page = q.list.data;
  // The last active owner cannot be demoted, suspended or removed: the API refuses; the UI does not offer it.
  const activeOwners = (page?.items ?? []).filter((m) => m.role === "owner" && m.status === "active").length;
  const lastOwner = (m: Member) => m.role === "owner" && m.status === "active" && activeOwners <= 1 && (page?.total ?? 0) <= (page?.limit ?? 0);
  const manage = can("organization.members.manage");
  // Only an owner grants or takes away ownership; the server enforces it, the UI does not offer it.
  const grantable = me.role === "owner" ? roles : roles.filter((r) => r !== "owner");
  const change = useAction(async (userId: string, role: Role) => {
    await unwrap(api.PATCH("/organizations/{id}/members/{user_id}", { params: { path: { id: orgId, user_id: userId } }, body: { role } }));
    members.reload();
  });
  // Suspension keeps the membership (and its role) but stops access; the API answers 409 for
  // what it refuses (the last owner, no seat left to reactivate into), shown as it comes.
  const setStatus = useAction(async (userId: string, status: Status) => {
    await unwrap(api.PATCH("/organizations/{id}/members/{user_id}", { params: { path: { id: orgId, user_id: userId } }, body: { status } }));
    members.reload();
  });
  const remove = useAction(async (userId: string) => {
    await unwrap(api.DELETE("/organizations/{id}/members/{user_id}", { params: { path: { id: orgId, user_id: userId } } }));
    members.reload();
  });

  const mayEdit = (m: Member) => manage && (m.role !== "owner" || me.role === "owner") && !lastOwner(m);
  const columns: Column<Member>[] = [
    {
      header: t.members.member,
      cell: (m) => (
        <>
          <strong>{m.login}</strong> {m.name && <span className="muted">{m.name}</span>}
        </>
      ),
    },
    {
      header: t.members.role,
      cell: (m) =>
                            mayEdit(m) ? (
                              <select
                                aria-label={t.members.roleOf(m.login)}
                                value={m.role}
                                disabled={change.pending}
                                onChange={(e) => void change.exec(m.user_id, e.target.value as Role)}
                              >
                                {(grantable.includes(m.role) ? grantable : [m.role, ...grantable]).map((r) => (
                                  <option key={r} value={r}>
                                    {t.roles[r]}
                                  </option>
                                ))}
                              </select>
                            ) : (
                              <span title={lastOwner(m) ? t.members.lastOwner : undefined}>{t.roles[m.role]}</span>
                            ),
    },
    { header: t.common.status, cell: (m) => <StatusBadge status={m.status} /> },
    { header: t.members.joined, priority: "low", cell: (m) => <Time value={m.joined_at} /> },
    {
      header: t.common.actions,
      show: manage,
      cell: (m) => (
                              <div className="row">
                                {mayEdit(m) && m.user_id !== me.user.id && (m.status === "active" || m.status === "suspended") && (
                                  <button
                                    type="button"
                                    disabled={setStatus.pending}
                                    onClick={() => {
                                      // Suspending stops someone's access at once: asked like Remove is.
                                      if (m.status === "suspended" || window.confirm(t.members.confirmSuspend(m.login))) void setStatus.exec(m.user_id, m.status === "active" ? "suspended" : "active");
                                    }}
                                  >
                                    {m.status === "active" ? t.members.suspend : t.members.reactivate}
                                    <span className="visually-hidden"> {m.login}</span>
                                  </button>
                                )}
                                {mayEdit(m) && m.user_id !== me.user.id && (
                                  <button
                                    type="button"
                                    className="danger"
                                    disabled={remove.pending}
                                    onClick={() => {
                                      if (window.confirm(t.members.confirmRemove(m.login))) void remove.exec(m.user_id);
                                    }}
                                  >
                                    {t.common.remove}<span className="visually-hidden"> {m.login}</span>
                                  </button>
                                )}
                              </div>
      ),
    },
  ];

  return (
    <section aria-labelledby="members-h">
      <h2 id="members-h">{t.members.title}</h2>
      {change.error && <ErrorView error={change.error} title={t.members.roleNotChanged} />}
      {setStatus.error && <ErrorView error={setStatus.error} title={t.members.statusNotChanged} />}
      {remove.error && <ErrorView error={remove.error} title={t.members.notRemoved} />}
      <DataTable data={q.list} what={t.members.title} caption={t.members.title} rowKey={(m) => m.user_id} columns={columns} empty={t.members.empty} onPage={q.setPage} />
    </section>
  );
}
