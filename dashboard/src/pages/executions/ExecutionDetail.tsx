import { useEffect } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import type { PageProps } from "../../routes";
import { useSession } from "../../session/session";
import { Link, navigate } from "../../router/router";
import { useI18n } from "../../i18n/i18n";
import { ErrorView, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { useAgents } from "../../lists/useRepositories";
import { LogView } from "./LogView";
import { executionTitle, githubIssueURL, githubPullURL } from "./links";
import { NotHere } from "../../ui/NotHere";
import { useConnected, useLiveEvent } from "../../events/LiveEvents";

export const terminal = new Set(["completed", "failed", "cancelled"]);
type Execution = Schema<"ExecutionOut">;

/** The run page: what ran where, who launched it, how long it took, its result and its logs. */
export default function ExecutionDetail({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, canSomewhere } = useSession();
  const { t, fmt } = useI18n();
  const exec = useApiData(() => unwrap(api.GET("/agents/executions/{id}", { params: { path: { id } } })), [id]);
  const e = exec.data;
  const done = e !== undefined && terminal.has(e.status);
  // A 404 ends it: nothing to follow (the page offers the user's other organizations).
  const gone = exec.status === "error" && exec.error.status === 404;
  const connected = useConnected();
  // Live: every change of this execution (and every reconnect) rereads it. Polling
  // only while disconnected, and never for an execution that has ended or is gone.
  useLiveEvent(["execution.updated"], exec.reload, id);
  useLiveEvent(["connected"], exec.reload);
  useEffect(() => {
    if (done || gone || connected) return;
    const timer = window.setInterval(exec.reload, 1500);
    return () => window.clearInterval(timer);
  }, [done, gone, connected, exec.reload]);
  const cancel = useAction(async () => {
    await unwrap(api.POST("/agents/executions/{id}/cancel", { params: { path: { id } } }));
    exec.reload();
  });
  // Re-run: a new execution with the same inputs (a new idempotency key: it is meant to run again).
  const rerun = useAction(async (x: Execution) => {
    const out = await unwrap(
      api.POST("/agents/execute", {
        params: { header: { "Idempotency-Key": crypto.randomUUID() } },
        body: { repository_id: x.repository_id!, issue_number: x.issue_number!, agent_type: x.agent_type, options: x.options },
      }),
    );
    navigate(`/executions/${out.execution.id}`);
  });
  const title = e ? executionTitle(e) : t.run.title;

  return (
    <Page
      title={title}
      actions={
        e && (
          <>
            {!done && canSomewhere("agents.stop") && (
              <button
                type="button"
                className="danger"
                disabled={cancel.pending}
                onClick={() => {
                  if (window.confirm(t.run.confirmCancel(title))) void cancel.exec();
                }}
              >
                {t.run.cancel}
              </button>
            )}
            {done && canSomewhere("agents.execute") && e.repository_id && e.issue_number != null && (
              <button type="button" disabled={rerun.pending} onClick={() => void rerun.exec(e)}>
                {rerun.pending ? t.run.rerunning : t.run.rerun}
              </button>
            )}
          </>
        )
      }
    >
      {cancel.error && <ErrorView error={cancel.error} title={t.run.notCancelled} />}
      {rerun.error && <ErrorView error={rerun.error} title={t.run.notRerun} />}
      {gone ? (
        <NotHere what={t.run.title} />
      ) : (
        <Show data={exec} what={t.run.title}>
          {(x) => (
            <>
              {x.status === "pending" && <Waiting x={x} />}
              <dl className="panel details">
                <dt>{t.common.status}</dt>
                <dd>
                  <StatusBadge status={x.status} label={x.status === "pending" ? t.status.queued : undefined} />
                </dd>
                <dt>{t.common.agent}</dt>
                <dd>{x.agent_type}</dd>
                <dt>{t.common.repository}</dt>
                <dd>
                  {x.repository_full_name ? (
                    <a href={`https://github.com/${x.repository_full_name}`} target="_blank" rel="noreferrer">
                      {x.repository_full_name}
                    </a>
                  ) : (
                    "—"
                  )}
                </dd>
                <dt>{t.common.issue}</dt>
                <dd>{x.issue_number != null ? <External href={githubIssueURL(x)} text={`#${x.issue_number}`} /> : "—"}</dd>
                <dt>{t.run.launchedBy}</dt>
                <dd>
                  {x.launched_by?.login ?? t.run.system} · <Time value={x.created_at} relative />
                </dd>

                <dt>{t.run.started}</dt>
                <dd>
                  <Time value={x.started_at} />
                  {x.started_at && <span className="muted small"> · {t.run.queuedFor(fmt.duration(Date.parse(x.started_at) - Date.parse(x.created_at)))}</span>}
                </dd>
                <dt>{x.status === "cancelled" ? t.run.cancelledAt : t.run.ended}</dt>
                <dd>
                  {x.status === "cancelled" && x.cancelled_by ? (
                    <>
                      {t.run.cancelledBy(x.cancelled_by.login)} · <Time value={x.cancelled_at ?? x.completed_at} />
                    </>
                  ) : (
                    <Time value={x.completed_at} />
                  )}
                </dd>
                <dt>{t.run.duration}</dt>
                <dd>
                  <Duration x={x} />
                </dd>
                {x.pull_request && (
                  <>
                    <dt>{t.run.pullRequest}</dt>
                    <dd>
                      <External href={x.pull_request.url} text={`#${x.pull_request.number}`} />
                      <span className="muted small"> {t.run.prState(x.pull_request.merged ? "merged" : x.pull_request.state)}</span>
                    </dd>
                  </>
                )}
                {x.workflow_run_id && (
                  <>
                    <dt>{t.run.workflowRun}</dt>
                    <dd>
                      <Link to={`/workflow-runs/${x.workflow_run_id}`}>{x.workflow_run_id.slice(0, 8)}</Link>
                    </dd>
                  </>
                )}
                {x.task_id && (
                  <>
                    <dt>{t.run.task}</dt>
                    <dd>
                      <Link to={`/tasks/${x.task_id}`}>{x.task_id.slice(0, 8)}</Link>
                    </dd>
                  </>
                )}
              </dl>
              <Result x={x} />
            </>
          )}
        </Show>
      )}
      {!gone && exec.status !== "loading" && <LogView executionId={id} follow={!done && exec.status === "ready"} />}
    </Page>
  );
}

function External({ href, text }: { href: string | null; text: string }) {
  return href ? (
    <a href={href} target="_blank" rel="noreferrer">
      {text}
    </a>
  ) : (
    <>{text}</>
  );
}

/** Duration is run time (started → ended), ticking while it runs. */
function Duration({ x }: { x: Execution }) {
  const { t, fmt } = useI18n();
  if (!x.started_at) return <span className="muted">{t.run.notStarted}</span>;
  const end = x.completed_at ? Date.parse(x.completed_at) : Date.now();
  return (
    <>
      {fmt.duration(Math.max(0, end - Date.parse(x.started_at)))}
      {!x.completed_at && <span className="muted small"> {t.run.soFar}</span>}
    </>
  );
}

/** The outcome as an outcome: summary, pull request, score or error, not as a log line. */
function Result({ x }: { x: Execution }) {
  const { t } = useI18n();
  if (!terminal.has(x.status)) return null;
  return (
    <section className={`panel result result-${x.status}`} aria-labelledby="result-h">
      <h2 id="result-h">{t.run.result}</h2>
      {x.summary && <p>{x.summary}</p>}
      <dl className="details">
        {x.pr_number != null && (
          <>
            <dt>{t.run.pullRequest}</dt>
            <dd>
              <External href={githubPullURL(x)} text={`#${x.pr_number}`} />
            </dd>
          </>
        )}
        {x.quality_score != null && (
          <>
            <dt>{t.run.qualityScore}</dt>
            <dd>{x.quality_score}</dd>
          </>
        )}
      </dl>
      {x.error && <p className="error">{t.run.error(x.error)}</p>}
      {!x.summary && x.pr_number == null && !x.error && <p className="muted">{t.run.noResult}</p>}
    </section>
  );
}

/** Waiting explains a queued execution: is any worker online that accepts its type? */
function Waiting({ x }: { x: Execution }) {
  const { me } = useSession();
  const { t } = useI18n();
  const agents = useAgents();
  const agent = agents.items.find((a) => a.type === x.agent_type);
  if (!agent) return null;
  return agent.online_workers === 0 ? (
    <p className="warning" role="status">
      {t.run.noWorker(me.organization.name, x.agent_type)} <Link to="/workers">{t.nav.workers}</Link>
    </p>
  ) : (
    <p className="muted" role="status">
      {t.run.queued(agent.online_workers)}
    </p>
  );
}
