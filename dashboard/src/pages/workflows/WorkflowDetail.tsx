import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { PageProps } from "../../routes";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { Link, navigate } from "../../router/router";
import { Empty, ErrorView, Page, Pagination, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { dagNodes } from "./definition";
import { useLiveReload } from "../../events/LiveEvents";

export default function WorkflowDetail({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, can } = useSession();
  const wf = useApiData(() => unwrap(api.GET("/workflows/{id}", { params: { path: { id } } })), [id]);
  const [page, setPage] = useState(1);
  const runs = useApiData(() => unwrap(api.GET("/workflows/{id}/runs", { params: { path: { id }, query: { page, limit: 20 } } })), [id, page]);
  useLiveReload(["workflow_run.updated"], runs.reload);
  const title = wf.status === "ready" ? wf.data.name : "Workflow";

  return (
    <Page
      title={title}
      actions={
        can("workflows.update") && (
          <Link to={`/workflows/${id}/edit`} className="button">
            Edit
          </Link>
        )
      }
    >
      <Show data={wf} what="the workflow">
        {(w) => (
          <>
            {w.description && <p className="muted">{w.description}</p>}
            <div className="panel">
              <DagView title={w.name} nodes={dagNodes(w.definition)} edges={w.definition.edges ?? []} />
            </div>
            {can("workflows.execute") && <RunForm workflowId={w.id} />}
          </>
        )}
      </Show>
      <section aria-labelledby="runs-h">
        <h2 id="runs-h">Runs</h2>
        <Show data={runs} what="runs">
          {(p) =>
            (p.items ?? []).length === 0 ? (
              <Empty>This workflow has not run yet.</Empty>
            ) : (
              <>
                <div className="table-wrap" tabIndex={0}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Run</th>
                        <th scope="col">Status</th>
                        <th scope="col">Issue</th>
                        <th scope="col">Created</th>
                        <th scope="col">Ended</th>
                      </tr>
                    </thead>
                    <tbody>
                      {(p.items ?? []).map((r) => (
                        <tr key={r.id}>
                          <td>
                            <Link to={`/workflow-runs/${r.id}`}>Run {r.id.slice(0, 8)}</Link>
                          </td>
                          <td>
                            <StatusBadge status={r.status} />
                          </td>
                          <td>{r.issue_number != null ? `#${r.issue_number}` : "—"}</td>
                          <td>
                            <Time value={r.created_at} />
                          </td>
                          <td>
                            <Time value={r.completed_at} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
              </>
            )
          }
        </Show>
      </section>
    </Page>
  );
}

function RunForm({ workflowId }: { workflowId: string }) {
  const { api } = useSession();
  const repos = useApiData(() => unwrap(api.GET("/repositories", { params: { query: { limit: 100 } } })), []);
  const [repositoryId, setRepositoryId] = useState("");
  const [issue, setIssue] = useState("");
  const run = useAction(async () => {
    const r = await unwrap(
      api.POST("/workflows/{id}/run", {
        params: { path: { id: workflowId } },
        body: { repository_id: repositoryId || undefined, issue_number: issue ? Number(issue) : undefined },
      }),
    );
    navigate(`/workflow-runs/${r.id}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run.exec();
  };
  return (
    <form className="form-row panel" onSubmit={submit} aria-label="Run this workflow">
      <div className="field">
        <label htmlFor="run-repo">Repository</label>
        <select id="run-repo" value={repositoryId} onChange={(e) => setRepositoryId(e.target.value)}>
          <option value="">none</option>
          {repos.status === "ready" &&
            (repos.data.items ?? [])
              .filter((r) => r.is_active)
              .map((r) => (
                <option key={r.id} value={r.id}>
                  {r.full_name}
                </option>
              ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="run-issue">Issue number</label>
        <input id="run-issue" type="number" min={1} value={issue} onChange={(e) => setIssue(e.target.value)} />
      </div>
      <button type="submit" className="primary" disabled={run.pending}>
        {run.pending ? "Starting…" : "Run workflow"}
      </button>
      {repos.status === "error" && <ErrorView error={repos.error} title="Repositories could not be loaded" />}
      {run.error && <ErrorView error={run.error} title="The workflow did not start" />}
    </form>
  );
}
