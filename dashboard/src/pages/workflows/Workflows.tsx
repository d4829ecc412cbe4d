import { useState } from "react";
import { unwrap } from "../../api/client";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { Empty, ErrorView, Page, Pagination, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { dagNodes } from "./definition";

export default function Workflows() {
  const { api, can } = useSession();
  const [page, setPage] = useState(1);
  const list = useApiData(() => unwrap(api.GET("/workflows", { params: { query: { page, limit: 20 } } })), [page]);
  const remove = useAction(async (id: string) => {
    await unwrap(api.DELETE("/workflows/{id}", { params: { path: { id } } }));
    list.reload();
  });
  return (
    <Page
      title="Workflows"
      actions={
        can("workflows.create") && (
          <Link to="/workflows/new" className="button primary">
            New workflow
          </Link>
        )
      }
    >
      {remove.error && <ErrorView error={remove.error} title="Workflow not deleted" />}
      <Show data={list} what="workflows">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No workflows yet.</Empty>
          ) : (
            <>
              <ul className="plain-list">
                {(p.items ?? []).map((w) => (
                  <li key={w.id} className="panel">
                    <div className="row">
                      <h2 className="inline-h">
                        <Link to={`/workflows/${w.id}`}>{w.name}</Link>
                      </h2>
                      <span className="row push-right">
                        <Link to={`/workflows/${w.id}`} className="button">
                          Runs<span className="visually-hidden"> of {w.name}</span>
                        </Link>
                        {can("workflows.update") && (
                          <Link to={`/workflows/${w.id}/edit`} className="button">
                            Edit<span className="visually-hidden"> {w.name}</span>
                          </Link>
                        )}
                        {can("workflows.delete") && (
                          <button
                            type="button"
                            className="danger"
                            disabled={remove.pending}
                            onClick={() => {
                              if (window.confirm(`Delete workflow ${w.name}?`)) void remove.exec(w.id);
                            }}
                          >
                            Delete<span className="visually-hidden"> {w.name}</span>
                          </button>
                        )}
                      </span>
                    </div>
                    {w.description && <p className="muted">{w.description}</p>}
                    <DagView title={w.name} nodes={dagNodes(w.definition)} edges={w.definition.edges ?? []} />
                  </li>
                ))}
              </ul>
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
            </>
          )
        }
      </Show>
    </Page>
  );
}
