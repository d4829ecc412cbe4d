import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { CopyButton, Empty, ErrorView, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

type Role = Schema<"CreateInvitationInputBody">["role"];

export function Invitations() {
  const { api, me } = useSession();
  const orgId = me.organization.id;
  const list = useApiData(() => unwrap(api.GET("/organizations/{id}/invitations", { params: { path: { id: orgId } } })), [orgId]);
  const [login, setLogin] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [created, setCreated] = useState<Schema<"CreatedInvitationOut"> | null>(null);
  const invite = useAction(async () => {
    const inv = await unwrap(api.POST("/organizations/{id}/invitations", { params: { path: { id: orgId } }, body: { github_login: login.trim(), role } }));
    setCreated(inv);
    setLogin("");
    list.reload();
  });
  const revoke = useAction(async (invitationId: string) => {
    await unwrap(api.DELETE("/organizations/{id}/invitations/{invitation_id}", { params: { path: { id: orgId, invitation_id: invitationId } } }));
    list.reload();
  });
  const roles: Role[] = me.role === "owner" ? ["owner", "admin", "member", "viewer"] : ["admin", "member", "viewer"];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void invite.exec();
  };
  // The invitee opens this dashboard page, which accepts through the API's accept route.
  const acceptURL = created ? `${window.location.origin}/invitations/${encodeURIComponent(created.token)}` : "";

  return (
    <section aria-labelledby="inv-h">
      <h2 id="inv-h">Invitations</h2>
      <form className="form-row" onSubmit={submit}>
        <div className="field">
          <label htmlFor="inv-login">GitHub login</label>
          <input id="inv-login" required value={login} onChange={(e) => setLogin(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="inv-role">Role</label>
          <select id="inv-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={invite.pending || login.trim() === ""}>
          Invite
        </button>
      </form>
      {invite.error && <ErrorView error={invite.error} title="Not invited" />}
      {created && (
        <div className="panel" role="status">
          <p>
            Invitation for <strong>{created.invitation.github_login}</strong> created. Send them this link; it is shown only
            once:
          </p>
          <p className="secret">{acceptURL}</p>
          <CopyButton text={acceptURL} label="Copy link" />
        </div>
      )}
      {revoke.error && <ErrorView error={revoke.error} title="Not revoked" />}
      <Show data={list} what="invitations">
        {(l) =>
          (l.items ?? []).length === 0 ? (
            <Empty>No invitations.</Empty>
          ) : (
            <div className="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">GitHub login</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {(l.items ?? []).map((i) => (
                    <tr key={i.id}>
                      <td>{i.github_login}</td>
                      <td>{i.role}</td>
                      <td>
                        <StatusBadge status={i.status} />
                      </td>
                      <td>
                        <Time value={i.expires_at} />
                      </td>
                      <td>
                        {i.status === "pending" && (
                          <button type="button" disabled={revoke.pending} onClick={() => void revoke.exec(i.id)}>
                            Revoke<span className="visually-hidden"> invitation of {i.github_login}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
