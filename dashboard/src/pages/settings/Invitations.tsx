import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { DataRows } from "../../lists/DataTable";
import { CopyButton, ErrorView, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { useMembers } from "../executions/ExecutionDetail";

type Role = Schema<"CreateInvitationInputBody">["role"];
type Invitation = Schema<"InvitationOut">;

export function Invitations() {
  const { api, me } = useSession();
  const t = useT();
  const orgId = me.organization.id;
  const list = useApiData(() => unwrap(api.GET("/organizations/{id}/invitations", { params: { path: { id: orgId } } })), [orgId]);
  const members = useMembers(true);
  const [login, setLogin] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [created, setCreated] = useState<Schema<"CreatedInvitationOut"> | null>(null);
  const pending = (list.data?.items ?? []).filter((i) => i.status === "pending");
  const existing = pending.find((i) => i.github_login.toLowerCase() === login.trim().toLowerCase());
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
    // A new invitation for the same login replaces the pending one: its link stops working.
    if (existing && !window.confirm(t.invitations.confirmReinvite(existing.github_login))) return;
    void invite.exec();
  };
  // The invitee opens this dashboard page, which accepts through the API's accept route.
  const acceptURL = created ? `${window.location.origin}/invitations/${encodeURIComponent(created.token)}` : "";

  return (
    <section aria-labelledby="inv-h">
      <h2 id="inv-h">{t.invitations.title}</h2>
      <form className="form-row" onSubmit={submit}>
        <div className="field">
          <label htmlFor="inv-login">{t.invitations.login}</label>
          <input id="inv-login" required value={login} aria-describedby={existing ? "inv-existing" : undefined} onChange={(e) => setLogin(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="inv-role">{t.members.role}</label>
          <select id="inv-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {t.roles[r]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={invite.pending || login.trim() === ""}>
          {t.invitations.invite}
        </button>
      </form>
      {existing && (
        <p id="inv-existing" className="warning" role="status">
          {t.invitations.reinviteWarning(existing.github_login)}
        </p>
      )}
      {invite.error && (
        <ErrorView
          error={invite.error}
          title={t.invitations.notInvited}
          messages={(field, message) => (field === "github_login" && /unknown|no such|not found|does not exist/i.test(message) ? t.errors.noSuchUser(login.trim()) : null)}
        />
      )}
      {created && (
        <div className="panel" role="status">
          <p>{t.invitations.created(created.invitation.github_login, t.roles[created.invitation.role])}</p>
          {created.replaced_invitation && <p className="warning">{t.invitations.replaced(created.invitation.github_login)}</p>}
          <p className="secret">{acceptURL}</p>
          <CopyButton text={acceptURL} label={t.invitations.copyLink} />
        </div>
      )}
      {revoke.error && <ErrorView error={revoke.error} title={t.invitations.notRevoked} />}
      <Show data={list} what={t.invitations.title}>
        {(l) => (
          <DataRows<Invitation>
            caption={t.invitations.title}
            rows={l.items ?? []}
            rowKey={(i) => i.id}
            empty={t.invitations.empty}
            columns={[
              { header: t.invitations.login, cell: (i) => i.github_login },
              { header: t.members.role, cell: (i) => t.roles[i.role] },
              { header: t.common.status, cell: (i) => <StatusBadge status={i.status} /> },
              { header: t.invitations.invitedBy, priority: "low", cell: (i) => (i.invited_by ? members.name(i.invited_by) : "—") },
              { header: t.invitations.expires, priority: "low", cell: (i) => <Time value={i.expires_at} relative /> },
              {
                header: t.common.actions,
                cell: (i) =>
                  i.status === "pending" && (
                    <button type="button" disabled={revoke.pending} onClick={() => void revoke.exec(i.id)}>
                      {t.invitations.revoke}
                      <span className="visually-hidden"> {t.invitations.of(i.github_login)}</span>
                    </button>
                  ),
              },
            ]}
          />
        )}
      </Show>
    </section>
  );
}
