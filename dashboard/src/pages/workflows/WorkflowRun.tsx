import { useEffect, useMemo } from "react";
import { unwrap } from "../../api/client";
import { useI18n } from "../../i18n/i18n";
import { NotHere } from "../../ui/NotHere";
import { ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { navigate } from "../../router/router";
import type { PageProps } from "../../routes";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { Empty, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useApiData } from "../../ui/useApiData";
import { useConnected, useLiveReload } from "../../events/LiveEvents";

const ended = new Set(["completed", "failed", "cancelled"]);

/** One run of a workflow: its DAG coloured by each node's status, followed until it ends. */
export default function WorkflowRun({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, can } = useSession();
  const { t, fmt } = useI18n();
  const run = useApiData(() => unwrap(api.GET("/workflow-runs/{id}", { params: { path: { id } } })), [id]);
  const done = run.status === "ready" && ended.has(run.data.status);
  const gone = run.status === "error" && run.error.status === 404;
  // Live: the run, its nodes' tasks and executions; polling every 2 s only while
  // disconnected, and never for a run that has ended or is gone.
  const connected = useConnected();
  useLiveReload(["workflow_run.updated", "task.updated", "execution.updated"], run.reload, 250);
  useEffect(() => {
    if (done || gone || connected) return;
    const timer = window.setInterval(run.reload, 2000);
    return () => window.clearInterval(timer);
  }, [done, gone, connected, run.reload]);
  const data = run.data ?? null;
  // Re-run: the same workflow on the same repository and issue, as a new run.
  const rerun = useAction(async () => {
    if (!data) return;
    const r = await unwrap(
      api.POST("/workflows/{id}/run", {
        params: { path: { id: data.workflow_id } },
        body: { repository_id: data.repository_id ?? undefined, issue_number: data.issue_number ?? undefined },
      }),
    );
    navigate(`/workflow-runs/${r.id}`);
  });
  // Cancel: every unfinished node stops; a run that ended meanwhile answers 409 (said in words).
  const cancel = useAction(async () => {
    try {
      await unwrap(api.POST("/workflow-runs/{id}/cancel", { params: { path: { id } } }));
    } finally {
      run.reload();
    }
  });
  const dag = useMemo(() => {
    if (!data) return null;
    const runNodes = data.nodes ?? [];
    const nodes = runNodes.map((n) => ({
      id: n.node_id,
      label: n.name || n.node_id,
      detail: n.agent_type,
      status: n.status,
      href: n.execution_id ? `/executions/${n.execution_id}` : undefined,
    }));
    const edges = data.definition?.edges ?? runNodes.flatMap((n) => (n.depends_on ?? []).map((d) => ({ from: d, to: n.node_id })));
    return { nodes, edges };
  }, [data]);

  return (
    <Page
      title={data ? t.wfRun.title(data.workflow_name) : t.wfRun.generic}
      actions={
        data &&
        can("workflows.execute") &&
        (done ? (
          <button type="button" disabled={rerun.pending} onClick={() => void rerun.exec()}>
            {t.run.rerun}
          </button>
        ) : (
          <button
            type="button"
            className="danger"
            disabled={cancel.pending}
            onClick={() => {
              if (window.confirm(t.wfRun.confirmCancel(data.workflow_name))) void cancel.exec();
            }}
          >
            {t.wfRun.cancel}
          </button>
        ))
      }
    >
      {rerun.error && <ErrorView error={rerun.error} title={t.run.notRerun} />}
      {cancel.error &&
        (cancel.error.status === 409 ? (
          <p className="error" role="alert">
            {t.wfRun.alreadyEnded}
          </p>
        ) : (
          <ErrorView error={cancel.error} title={t.run.notCancelled} />
        ))}
      {gone ? <NotHere what={t.wfRun.generic} /> : (
      <Show data={run} what={t.wfRun.generic}>
        {(r) => (
          <>
            <p className="row">
              <StatusBadge status={r.status} />
              <Link to={`/workflows/${r.workflow_id}`}>{r.workflow_name}</Link>
              <span className="muted">
                {t.wfRun.started} <Time value={r.started_at ?? r.created_at} />
              </span>
              {r.completed_at && (
                <span className="muted">
                  {t.wfRun.ended} <Time value={r.completed_at} />
                  {" · "}
                  {fmt.duration(Date.parse(r.completed_at) - Date.parse(r.started_at ?? r.created_at))}
                </span>
              )}
              {r.launched_by && <span className="muted">{t.run.launchedByLogin(r.launched_by.login)}</span>}
            </p>
            {r.status === "cancelled" && r.cancelled_by && (
              <p className="muted" role="status">
                {t.run.cancelledBy(r.cancelled_by.login)} · <Time value={r.cancelled_at ?? r.completed_at} />
              </p>
            )}
            {dag && (
              <div className="panel">
                <DagView title={t.wfRun.title(r.workflow_name)} nodes={dag.nodes} edges={dag.edges} />
              </div>
            )}
            {(r.nodes ?? []).length === 0 ? (
              <Empty>{t.dag.noNodes}</Empty>
            ) : (
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <caption className="visually-hidden">{t.wfRun.nodes}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t.wfRun.node}</th>
                      <th scope="col">{t.common.agent}</th>
                      <th scope="col">{t.common.status}</th>
                      <th scope="col">{t.wfRun.waitingOn}</th>
                      <th scope="col">{t.run.title}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(r.nodes ?? []).map((n) => (
                      <tr key={n.node_id}>
                        <td>{n.name || n.node_id}</td>
                        <td>{n.agent_type}</td>
                        <td>
                          <StatusBadge status={n.status} />
                          {n.error && <div className="small">{n.error}</div>}
                        </td>
                        <td>{n.deps_pending > 0 ? t.wfRun.nodesCount(n.deps_pending) : "—"}</td>
                        <td>{n.execution_id ? <Link to={`/executions/${n.execution_id}`}>{t.wfRun.logs}<span className="visually-hidden"> {t.workflows.of(n.name || n.node_id)}</span></Link> : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Show>
      )}
    </Page>
  );
}
