import { useEffect, useMemo } from "react";
import { unwrap } from "../../api/client";
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
  const { api } = useSession();
  const run = useApiData(() => unwrap(api.GET("/workflow-runs/{id}", { params: { path: { id } } })), [id]);
  const done = run.status === "ready" && ended.has(run.data.status);
  // live: the run and its nodes' tasks; polling every 2 s only while disconnected
  const connected = useConnected();
  useLiveReload(["workflow_run.updated", "task.updated"], run.reload, 250);
  useEffect(() => {
    if (done || connected) return;
    const t = window.setInterval(run.reload, 2000);
    return () => window.clearInterval(t);
  }, [done, connected, run.reload]);
  const data = run.status === "ready" ? run.data : null;
  const dag = useMemo(() => {
    if (!data) return null;
    const runNodes = data.nodes ?? [];
    const nodes = runNodes.map((n) => ({ id: n.node_id, label: n.name || n.node_id, detail: n.agent_type, status: n.status }));
    const edges = data.definition?.edges ?? runNodes.flatMap((n) => (n.depends_on ?? []).map((d) => ({ from: d, to: n.node_id })));
    return { nodes, edges };
  }, [data]);

  return (
    <Page title={data ? `Run of ${data.workflow_name}` : "Workflow run"}>
      <Show data={run} what="the run">
        {(r) => (
          <>
            <p className="row">
              <StatusBadge status={r.status} />
              <Link to={`/workflows/${r.workflow_id}`}>{r.workflow_name}</Link>
              <span className="muted">
                started <Time value={r.started_at ?? r.created_at} />
              </span>
              {r.completed_at && (
                <span className="muted">
                  ended <Time value={r.completed_at} />
                </span>
              )}
            </p>
            {dag && (
              <div className="panel">
                <DagView title={`Run of ${r.workflow_name}`} nodes={dag.nodes} edges={dag.edges} />
              </div>
            )}
            {(r.nodes ?? []).length === 0 ? (
              <Empty>No nodes.</Empty>
            ) : (
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <caption className="visually-hidden">Nodes of the run</caption>
                  <thead>
                    <tr>
                      <th scope="col">Node</th>
                      <th scope="col">Agent</th>
                      <th scope="col">Status</th>
                      <th scope="col">Waiting on</th>
                      <th scope="col">Execution</th>
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
                        <td>{n.deps_pending > 0 ? `${n.deps_pending} node${n.deps_pending === 1 ? "" : "s"}` : "—"}</td>
                        <td>{n.execution_id ? <Link to={`/executions/${n.execution_id}`}>Logs<span className="visually-hidden"> of {n.name || n.node_id}</span></Link> : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Show>
    </Page>
  );
}
