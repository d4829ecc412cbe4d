import { useEffect, useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { DataTable } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { CopyButton, ErrorView, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

type Role = Schema<"CreateInvitationInputBody">["role"];
type Invitation = Schema<"InvitationOut">;

export function Invitations() {
  const { api, me } = useSession();
  const t = useT();
  const orgId = me.organization.id;
  const list = useListQuery("/organizations/{id}/invitations", [], { params: { path: { id: orgId } }, prefix: "invitations." });
  const [login, setLogin] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [created, setCreated] = useState<Schema<"CreatedInvitationOut"> | null>(null);
  const typed = login.trim();
  // Whether the typed login already has a pending invitation, on any page of the list: the
  // page on screen answers at once, the API (asked as the typing pauses) for the others.
  const [asked, setAsked] = useState("");
  useEffect(() => {
    const timer = window.setTimeout(() => setAsked(typed), 250);
    return () => window.clearTimeout(timer);
  }, [typed]);
  const pendingOf = (l: string) => unwrap(api.GET("/organizations/{id}/invitations", { params: { path: { id: orgId }, query: { github_login: l, limit: 1 } } }));
  const lookup = useApiData(() => (asked ? pendingOf(asked) : Promise.resolve(null)), [orgId, asked]);
  const same = (i: Invitation) => i.status === "pending" && i.github_login.toLowerCase() === typed.toLowerCase();
  const existing = typed ? ((list.list.data?.items ?? []).find(same) ?? (asked === typed ? lookup.data?.items?.find(same) : undefined)) : undefined;
  const invite = useAction(async () => {
    const inv = await unwrap(api.POST("/organizations/{id}/invitations", { params: { path: { id: orgId } }, body: { github_login: typed, role } }));
    setCreated(inv);
    setLogin("");
    list.reload();
    lookup.reload();
  });
  const revoke = useAction(async (invitationId: string) => {
    await unwrap(api.DELETE("/organizations/{id}/invitations/{invitation_id}", { params: { path: { id: orgId, invitation_id: invitationId } } }));
    list.reload();
    lookup.reload();
  });
  const roles: Role[] = me.role === "owner" ? ["owner", "admin", "member", "viewer"] : ["admin", "member", "viewer"];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // A new invitation for the same login replaces the pending one: its link stops working.
    // Sent before the lookup answered, ask the API now (the answer says so afterwards anyway).
    let replacing = existing;
    if (!replacing && !(asked === typed && lookup.status === "ready")) replacing = (await pendingOf(typed).catch(() => null))?.items?.find(same);
    if (replacing && !window.confirm(t.invitations.confirmReinvite(replacing.github_login))) return;
    void invite.exec();
  };
  // The invitee opens this dashboard page, which accepts through the API's accept route.
  const acceptURL = created ? `${window.location.origin}/invitations/${encodeURIComponent(created.token)}` : "";

  return (
    <section aria-labelledby="inv-h">
      <h2 id="inv-h">{t.invitations.title}</h2>
      <form className="form-row" onSubmit={(e) => void submit(e)}>
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
      <DataTable<Invitation>
        data={list.list}
        what={t.invitations.title}
        caption={t.invitations.title}
        rowKey={(i) => i.id}
        empty={t.invitations.empty}
        onPage={list.setPage}
        columns={[
          { header: t.invitations.login, cell: (i) => i.github_login },
          { header: t.members.role, cell: (i) => t.roles[i.role] },
          { header: t.common.status, cell: (i) => <StatusBadge status={i.status} /> },
          { header: t.invitations.invitedBy, priority: "low", cell: (i) => i.inviter?.login ?? "—" },
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
    </section>
  );
}
