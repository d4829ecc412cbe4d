import { useEffect, useState } from "react";
import { unwrap } from "../../api/client";
import type { Query, Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Pagination, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { NewWorker } from "./NewWorker";
import { useLiveReload } from "../../events/LiveEvents";

type Status = NonNullable<Query<"list-workers">["status"]>;
const statuses: Status[] = ["online", "busy", "offline"];

export function WorkerList() {
  const { api, can } = useSession();
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<Status | "">("");
  const workers = useApiData(
    () => unwrap(api.GET("/workers", { params: { query: { page, limit: 20, status: status || undefined } } })),
    [page, status],
  );
  useLiveReload(["worker.updated"], workers.reload);
  // Online/offline also follows from heartbeats stopping (no event): look again every 10 s.
  useEffect(() => {
    const t = window.setInterval(workers.reload, 10_000);
    return () => window.clearInterval(t);
  }, [workers.reload]);
  const revoke = useAction(async (w: Schema<"WorkerOut">) => {
    await unwrap(api.DELETE("/workers/{id}", { params: { path: { id: w.id } } }));
    workers.reload();
  });
  const manage = can("agents.manage");

  return (
    <section aria-labelledby="workers-h">
      <h2 id="workers-h">Workers</h2>
      {manage && <NewWorker onCreated={workers.reload} />}
      <div className="filters">
        <div className="field">
          <label htmlFor="worker-status">Status</label>
          <select
            id="worker-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as Status | "");
              setPage(1);
            }}
          >
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
      </div>
      {revoke.error && <ErrorView error={revoke.error} title="Worker not revoked" />}
      <Show data={workers} what="workers">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No workers{status ? ` that are ${status}` : ""}. {manage && "Create one above and start it with its token."}</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Status</th>
                      <th scope="col">Running</th>
                      <th scope="col">Agent types</th>
                      <th scope="col">Last heartbeat</th>
                      <th scope="col">Version</th>
                      {manage && <th scope="col">Actions</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((w) => (
                      <tr key={w.id}>
                        <td>{w.name}</td>
                        <td>
                          <StatusBadge status={w.status} />
                        </td>
                        <td>
                          {w.running_tasks} / {w.max_concurrency}
                        </td>
                        <td>{(w.agent_types ?? []).length ? (w.agent_types ?? []).join(", ") : <span className="muted">any</span>}</td>
                        <td>
                          <Time value={w.last_heartbeat_at} />
                        </td>
                        <td>{w.version || <span className="muted">—</span>}</td>
                        {manage && (
                          <td>
                            <button
                              type="button"
                              className="danger"
                              disabled={revoke.pending}
                              onClick={() => {
                                if (window.confirm(`Revoke worker ${w.name}? Its token stops working at once.`)) void revoke.exec(w);
                              }}
                            >
                              Revoke<span className="visually-hidden"> worker {w.name}</span>
                            </button>
                          </td>
                        )}
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
  );
}
