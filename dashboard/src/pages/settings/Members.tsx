import { useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Pagination, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

type Role = Schema<"MemberOut">["role"];
type Status = NonNullable<Schema<"UpdateMemberInputBody">["status"]>;
const roles: Role[] = ["owner", "admin", "member", "viewer"];

export function Members() {
  const { api, me, can } = useSession();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const members = useApiData(
    () => unwrap(api.GET("/organizations/{id}/members", { params: { path: { id: orgId }, query: { page, limit: 20 } } })),
    [orgId, page],
  );
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

  return (
    <section aria-labelledby="members-h">
      <h2 id="members-h">Members</h2>
      {change.error && <ErrorView error={change.error} title="Role not changed" />}
      {setStatus.error && <ErrorView error={setStatus.error} title="Status not changed" />}
      {remove.error && <ErrorView error={remove.error} title="Member not removed" />}
      <Show data={members} what="members">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No members.</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Member</th>
                      <th scope="col">Role</th>
                      <th scope="col">Status</th>
                      <th scope="col">Joined</th>
                      {manage && <th scope="col">Actions</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((m) => {
                      const mayEdit = manage && (m.role !== "owner" || me.role === "owner");
                      return (
                        <tr key={m.user_id}>
                          <td>
                            <strong>{m.login}</strong> {m.name && <span className="muted">{m.name}</span>}
                          </td>
                          <td>
                            {mayEdit ? (
                              <select
                                aria-label={`Role of ${m.login}`}
                                value={m.role}
                                disabled={change.pending}
                                onChange={(e) => void change.exec(m.user_id, e.target.value as Role)}
                              >
                                {(grantable.includes(m.role) ? grantable : [m.role, ...grantable]).map((r) => (
                                  <option key={r} value={r}>
                                    {r}
                                  </option>
                                ))}
                              </select>
                            ) : (
                              m.role
                            )}
                          </td>
                          <td>
                            <StatusBadge status={m.status} />
                          </td>
                          <td>
                            <Time value={m.joined_at} />
                          </td>
                          {manage && (
                            <td>
                              <div className="row">
                                {mayEdit && m.user_id !== me.user.id && (m.status === "active" || m.status === "suspended") && (
                                  <button type="button" disabled={setStatus.pending} onClick={() => void setStatus.exec(m.user_id, m.status === "active" ? "suspended" : "active")}>
                                    {m.status === "active" ? "Suspend" : "Reactivate"}
                                    <span className="visually-hidden"> {m.login}</span>
                                  </button>
                                )}
                                {mayEdit && m.user_id !== me.user.id && (
                                  <button
                                    type="button"
                                    className="danger"
                                    disabled={remove.pending}
                                    onClick={() => {
                                      if (window.confirm(`Remove ${m.login} from the organization?`)) void remove.exec(m.user_id);
                                    }}
                                  >
                                    Remove<span className="visually-hidden"> {m.login}</span>
                                  </button>
                                )}
                              </div>
                            </td>
                          )}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
            </>
          )
        }
      </Show>
    </section>
  );
}
