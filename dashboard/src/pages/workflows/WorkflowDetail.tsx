import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { PageProps } from "../../routes";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { Link, navigate } from "../../router/router";
import { ErrorView, Page, Show, StatusBadge, Time } from "../../ui/states";
import { useT } from "../../i18n/i18n";
import { DataTable } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { useRepositories } from "../../lists/useRepositories";
import { useAction, useApiData } from "../../ui/useApiData";
import { dagNodes } from "./definition";

export default function WorkflowDetail({ params }: PageProps) {
  const id = params.id ?? "";
  const { api, can } = useSession();
  const wf = useApiData(() => unwrap(api.GET("/workflows/{id}", { params: { path: { id } } })), [id]);
  const t = useT();
  // A workflow that is not here has no runs to show or look at again.
  const gone = wf.status === "error" && wf.error.status === 404;
  const q = useListQuery("/workflows/{id}/runs", [], { params: { path: { id } }, refreshOn: gone ? undefined : ["workflow_run.updated"], pollMs: gone ? undefined : 10_000 });
  const title = wf.status === "ready" ? wf.data.name : t.workflows.workflow;

  return (
    <Page
      title={title}
      actions={
        can("workflows.update") && !gone && (
          <Link to={`/workflows/${id}/edit`} className="button">
            {t.common.edit}
          </Link>
        )
      }
    >
      <Show data={wf} what={t.workflows.workflow}>
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
      {!gone && (
        <section aria-labelledby="runs-h">
          <h2 id="runs-h">{t.workflows.runs}</h2>
          <DataTable
            data={q.list}
            what={t.workflows.runs}
            caption={t.workflows.runs}
            rowKey={(r) => r.id}
            empty={t.workflows.noRuns}
            onPage={q.setPage}
            columns={[
              { header: t.workflows.run, cell: (r) => <Link to={`/workflow-runs/${r.id}`}>{t.workflows.runId(r.id.slice(0, 8))}</Link> },
              { header: t.common.status, cell: (r) => <StatusBadge status={r.status} /> },
              { header: t.common.issue, priority: "low", cell: (r) => (r.issue_number != null ? `#${r.issue_number}` : "—") },
              { header: t.common.created, cell: (r) => <Time value={r.created_at} relative /> },
              { header: t.workflows.ended, priority: "low", cell: (r) => <Time value={r.completed_at} /> },
            ]}
          />
        </section>
      )}
    </Page>
  );
}

function RunForm({ workflowId }: { workflowId: string }) {
  const { api } = useSession();
  const t = useT();
  const repos = useRepositories({ activeOnly: true });
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
    <form className="form-row panel" onSubmit={submit} aria-label={t.workflows.runThis}>
      <div className="field">
        <label htmlFor="run-repo">{t.common.repository}</label>
        <select id="run-repo" value={repositoryId} onChange={(e) => setRepositoryId(e.target.value)}>
          <option value="">{t.common.none}</option>
          {repos.items.map((r) => (
            <option key={r.id} value={r.id}>
              {r.full_name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="run-issue">{t.launch.issue}</label>
        <input id="run-issue" type="number" min={1} value={issue} onChange={(e) => setIssue(e.target.value)} />
      </div>
      <button type="submit" className="primary" disabled={run.pending}>
        {run.pending ? t.workflows.starting : t.workflows.runWorkflow}
      </button>
      {repos.status === "error" && <ErrorView error={repos.error} title={t.workflows.reposFailed} />}
      {run.error && <ErrorView error={run.error} title={t.workflows.notStarted} />}
    </form>
  );
}
