import { useEffect } from "react";
import { unwrap } from "../../api/client";
import type { PageProps } from "../../routes";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { ErrorView, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { LogView } from "./LogView";
import { useConnected, useLiveEvent } from "../../events/LiveEvents";

export const terminal = new Set(["completed", "failed", "cancelled"]);

export default function ExecutionDetail({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, canSomewhere } = useSession();
  const exec = useApiData(() => unwrap(api.GET("/agents/executions/{id}", { params: { path: { id } } })), [id]);
  const done = exec.status === "ready" && terminal.has(exec.data.status);
  const gone = exec.status === "error" && exec.error.status === 404;
  const connected = useConnected();
  // Live: every change of this execution (and every reconnect) rereads it. Polling
  // only while disconnected, and never for an execution that is gone.
  useLiveEvent(["execution.updated"], exec.reload, id);
  useLiveEvent(["connected"], exec.reload);
  useEffect(() => {
    if (done || gone || connected) return;
    const t = window.setInterval(exec.reload, 1500);
    return () => window.clearInterval(t);
  }, [done, gone, connected, exec.reload]);
  const cancel = useAction(async () => {
    await unwrap(api.POST("/agents/executions/{id}/cancel", { params: { path: { id } } }));
    exec.reload();
  });

  return (
    <Page
      title="Execution"
      actions={
        exec.status === "ready" &&
        !done &&
        canSomewhere("agents.stop") && (
          <button type="button" className="danger" disabled={cancel.pending} onClick={() => void cancel.exec()}>
            Cancel execution
          </button>
        )
      }
    >
      {cancel.error && <ErrorView error={cancel.error} title="Not cancelled" />}
      <Show data={exec} what="the execution">
        {(e) => (
          <>
            <dl className="panel details">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={e.status} />
              </dd>
              <dt>Agent</dt>
              <dd>{e.agent_type}</dd>
              <dt>Repository</dt>
              <dd>{e.repository_full_name ?? "—"}</dd>
              <dt>Issue</dt>
              <dd>{e.issue_number != null ? `#${e.issue_number}` : "—"}</dd>
              <dt>Created</dt>
              <dd>
                <Time value={e.created_at} />
              </dd>
              <dt>Started</dt>
              <dd>
                <Time value={e.started_at} />
              </dd>
              <dt>Ended</dt>
              <dd>
                <Time value={e.completed_at} />
              </dd>
              {(e.pull_request || e.pr_number != null) && (
                <>
                  <dt>Pull request</dt>
                  <dd>
                    {e.pull_request ? (
                      <a href={e.pull_request.url} target="_blank" rel="noreferrer noopener">
                        #{e.pull_request.number}
                      </a>
                    ) : (
                      `#${e.pr_number}`
                    )}
                    {e.pull_request && <span className="muted small"> {e.pull_request.merged ? "merged" : e.pull_request.state}</span>}
                  </dd>
                </>
              )}
              {e.quality_score != null && (
                <>
                  <dt>Quality score</dt>
                  <dd>{e.quality_score}</dd>
                </>
              )}
              {e.workflow_run_id && (
                <>
                  <dt>Workflow run</dt>
                  <dd>
                    <Link to={`/workflow-runs/${e.workflow_run_id}`}>{e.workflow_run_id.slice(0, 8)}</Link>
                  </dd>
                </>
              )}
            </dl>
            {e.summary && (
              <section className="panel" aria-labelledby="summary-h">
                <h2 id="summary-h">Summary</h2>
                <p>{e.summary}</p>
              </section>
            )}
            {e.error && <p className="error">Error: {e.error}</p>}
          </>
        )}
      </Show>
      {!gone && <LogView executionId={id} follow={!done} />}
    </Page>
  );
}
