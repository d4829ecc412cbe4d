import { useMemo, type FormEvent } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { Link, navigate, useLocation } from "../router/router";
import { useT } from "../i18n/i18n";
import { Empty, ErrorView, Page, Show } from "../ui/states";
import { useAction } from "../ui/useApiData";
import { useDraft } from "../ui/useDraft";
import { useAgents, useRepositories } from "../lists/useRepositories";
import { parseGitHubRef } from "./executions/links";

/**
 * Launch an agent on an issue; the new execution opens when the API has queued it. The
 * form is a draft kept through a session that ends; the address may prefill it
 * (`?repository_id=&issue=&agent_type=`, what "Re-run" links to).
 */
export default function Launch() {
  const { api, can, me } = useSession();
  const t = useT();
  const { query } = useLocation();
  const repos = useRepositories({ activeOnly: true });
  const agents = useAgents();
  const draft = useDraft("launch", {
    repositoryId: query.get("repository_id") ?? "",
    issue: query.get("issue") ?? "",
    agentType: query.get("agent_type") ?? "",
  });
  const { repositoryId, issue, agentType } = draft.value;
  // One key per attempt: a double submit or a retried request launches once.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [repositoryId, issue, agentType]);
  const launch = useAction(async () => {
    const out = await unwrap(
      api.POST("/agents/execute", {
        params: { header: { "Idempotency-Key": idempotencyKey } },
        body: { repository_id: repositoryId, issue_number: Number(issue), agent_type: agentType },
      }),
    );
    draft.clear();
    navigate(`/executions/${out.execution.id}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void launch.exec();
  };
  // A pasted issue URL fills the repository (when connected) and the number.
  const onIssue = (value: string) => {
    const ref = /\D/.test(value.trim()) ? parseGitHubRef(value) : null;
    if (ref?.issue) {
      const repo = repos.items.find((r) => r.full_name.toLowerCase() === ref.fullName.toLowerCase());
      draft.set({ issue: String(ref.issue), ...(repo ? { repositoryId: repo.id } : {}) });
    } else draft.set({ issue: value.replace(/[^\d]/g, "") });
  };
  const ready = repositoryId !== "" && agentType !== "" && Number(issue) >= 1;
  const chosen = agents.items.find((x) => x.type === agentType);

  return (
    <Page title={t.launch.title}>
      <Show data={repos} what={t.nav.repositories}>
        {() => {
          if (repos.items.length === 0)
            return (
              <Empty>
                {t.launch.noRepo} {can("repositories.write") && <Link to="/repositories">{t.launch.addFirst}</Link>}
              </Empty>
            );
          return (
            <Show data={agents} what={t.launch.agentTypes}>
              {() => (
                <form className="stack panel" onSubmit={submit}>
                  {draft.restored && <p className="muted small">{t.session.draftRestored}</p>}
                  <div className="field">
                    <label htmlFor="launch-repo">{t.common.repository}</label>
                    <select id="launch-repo" required value={repositoryId} onChange={(e) => draft.set({ repositoryId: e.target.value })}>
                      <option value="">{t.launch.chooseRepo}</option>
                      {repos.items.map((x) => (
                        <option key={x.id} value={x.id}>
                          {x.full_name}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div className="field">
                    <label htmlFor="launch-issue">{t.launch.issue}</label>
                    <input id="launch-issue" required inputMode="numeric" aria-describedby="launch-issue-help" value={issue} onChange={(e) => onIssue(e.target.value)} />
                    <span id="launch-issue-help" className="muted small">
                      {t.launch.issueHelp}
                    </span>
                  </div>
                  <div className="field">
                    <label htmlFor="launch-agent">{t.common.agentType}</label>
                    <select id="launch-agent" required value={agentType} onChange={(e) => draft.set({ agentType: e.target.value })}>
                      <option value="">{t.launch.chooseAgent}</option>
                      {agents.items.map((x) => (
                        <option key={x.type} value={x.type}>
                          {t.launch.agentOption(x.name, x.type, x.layer, x.online_workers)}
                        </option>
                      ))}
                    </select>
                    {chosen && <p className="muted small">{chosen.description}</p>}
                    {chosen && chosen.online_workers === 0 && (
                      <p className="warning" role="status">
                        {t.launch.noWorker(me.organization.name, chosen.type)} <Link to="/workers">{t.launch.toWorkers}</Link>
                      </p>
                    )}
                  </div>
                  <div>
                    <button type="submit" className="primary" disabled={!ready || launch.pending}>
                      {launch.pending ? t.launch.launching : t.launch.launch}
                    </button>
                  </div>
                  {launch.error && <ErrorView error={launch.error} title={t.launch.notLaunched} />}
                </form>
              )}
            </Show>
          );
        }}
      </Show>
    </Page>
  );
}
