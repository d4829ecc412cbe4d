import { unwrap } from "../api/client";
import type { PageProps } from "../routes";
import { useSession } from "../session/session";
import { ErrorView, Page } from "../ui/states";
import { useAction } from "../ui/useApiData";

/** The page an invitation link opens: the invited GitHub user accepts and lands in the organization. */
export default function AcceptInvitation({ params }: PageProps) {
  const { api, me, switchOrganization } = useSession();
  const accept = useAction(async () => {
    // the token rides in the body: API Gateway and the access log record paths
    const org = await unwrap(api.POST("/invitations/accept", { body: { token: params.token ?? "" } }));
    await switchOrganization(org.id);
  });
  return (
    <Page title="Invitation">
      <div className="panel stack">
        <p>
          You are signed in as <strong>{me.user.login}</strong>. Accept the invitation to join its organization.
        </p>
        <div>
          <button type="button" className="primary" disabled={accept.pending} onClick={() => void accept.exec()}>
            Accept invitation
          </button>
        </div>
        {accept.error && <ErrorView error={accept.error} title="The invitation could not be accepted" />}
      </div>
    </Page>
  );
}
