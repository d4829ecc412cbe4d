import { useState } from "react";
import { unwrap } from "../api/client";
import type { Schema } from "../api/types";
import type { PageProps } from "../routes";
import { useSession } from "../session/session";
import { useT } from "../i18n/i18n";
import { ErrorView, Page } from "../ui/states";
import { useAction } from "../ui/useApiData";

/**
 * The page an invitation link opens: the invited GitHub user accepts and lands in the
 * organization. The API has no route that describes an invitation by its token before it is
 * accepted, so the organization is named from the accept answer; role and inviter are shown
 * on the organization's page once joined.
 */
export default function AcceptInvitation({ params }: PageProps) {
  const { api, me, switchOrganization } = useSession();
  const t = useT();
  const [joined, setJoined] = useState<Schema<"OrganizationOut"> | null>(null);
  const accept = useAction(async () => {
    // the token rides in the body: API Gateway and the access log record paths
    const org = await unwrap(api.POST("/invitations/accept", { body: { token: params.token ?? "" } }));
    setJoined(org);
    await switchOrganization(org.id);
  });
  return (
    <Page title={t.invitations.acceptTitle}>
      <div className="panel stack">
        <p>{t.invitations.acceptIntro(me.user.login)}</p>
        <p className="muted small">{t.invitations.acceptOnlyFor(me.user.login)}</p>
        <div>
          <button type="button" className="primary" disabled={accept.pending || joined !== null} onClick={() => void accept.exec()}>
            {t.invitations.accept}
          </button>
        </div>
        {joined && <p role="status">{t.invitations.joined(joined.name)}</p>}
        {accept.error && <ErrorView error={accept.error} title={t.invitations.notAccepted} />}
      </div>
    </Page>
  );
}
