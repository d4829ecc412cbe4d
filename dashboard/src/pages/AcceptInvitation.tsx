import { useState } from "react";
import { unwrap } from "../api/client";
import type { Schema } from "../api/types";
import type { PageProps } from "../routes";
import { useSession } from "../session/session";
import { useT } from "../i18n/i18n";
import { ErrorView, Loading, Page, Time } from "../ui/states";
import { useAction, useApiData } from "../ui/useApiData";

/**
 * The page an invitation link opens: it reads the invitation by its token (POST
 * /invitations/lookup: who invited, to which organization, as what, for which GitHub
 * account, until when), then the invited account accepts and lands in the organization.
 * An unknown, used, revoked or expired token is one 404: said in words, with nothing to accept.
 */
export default function AcceptInvitation({ params }: PageProps) {
  const { api, switchOrganization } = useSession();
  const t = useT();
  const token = params.token ?? "";
  const [joined, setJoined] = useState<Schema<"OrganizationOut"> | null>(null);
  // the token rides in the body: API Gateway and the access log record paths
  const preview = useApiData(() => unwrap(api.POST("/invitations/lookup", { body: { token } })), [token]);
  const accept = useAction(async () => {
    const org = await unwrap(api.POST("/invitations/accept", { body: { token } }));
    setJoined(org);
    await switchOrganization(org.id);
  });
  const p = preview.data;
  return (
    <Page title={t.invitations.acceptTitle}>
      <div className="panel stack">
        {preview.status === "loading" && <Loading what={t.invitations.lookupTitle} />}
        {preview.status === "error" &&
          (preview.error.status === 404 ? (
            <p className="warning" role="alert">
              {t.invitations.invalid}
            </p>
          ) : (
            <ErrorView error={preview.error} title={t.invitations.notLoaded} onRetry={preview.reload} />
          ))}
        {p && (
          <>
            <p>{t.invitations.invitedYou(p.invited_by ? `@${p.invited_by.login}` : t.invitations.someone, p.organization.name, t.roles[p.role])}</p>
            {p.addressed_to_you ? (
              <p className="muted small">{t.invitations.forLogin(p.github_login)}</p>
            ) : (
              <p className="warning" role="status">
                {t.invitations.notForYou(p.github_login)}
              </p>
            )}
            <p className="muted small">
              {t.invitations.expiresAt} <Time value={p.expires_at} />
            </p>
            {p.already_member && joined === null && <p role="status">{t.invitations.alreadyMember(p.organization.name)}</p>}
            {p.addressed_to_you && !p.already_member && (
              <div>
                <button type="button" className="primary" disabled={accept.pending || joined !== null} onClick={() => void accept.exec()}>
                  {t.invitations.accept}
                </button>
              </div>
            )}
          </>
        )}
        {joined && <p role="status">{t.invitations.joined(joined.name)}</p>}
        {accept.error && <ErrorView error={accept.error} title={t.invitations.notAccepted} />}
      </div>
    </Page>
  );
}
