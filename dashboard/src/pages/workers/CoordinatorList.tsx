import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Pagination, Show, StatusBadge } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { InlineRename } from "../../ui/InlineRename";
import { toApiError } from "../../api/problem";

/** Coordinators group the workers of one host. */
export function CoordinatorList() {
  const { api, can } = useSession();
  const [page, setPage] = useState(1);
  const list = useApiData(() => unwrap(api.GET("/coordinators", { params: { query: { page, limit: 20 } } })), [page]);
  const manage = can("agents.manage");
  const [name, setName] = useState("");
  const [host, setHost] = useState("");
  const create = useAction(async () => {
    await unwrap(api.POST("/coordinators", { body: { name: name.trim(), host: host.trim() } }));
    setName("");
    setHost("");
    list.reload();
  });
  const remove = useAction(async (id: string) => {
    await unwrap(api.DELETE("/coordinators/{id}", { params: { path: { id } } }));
    list.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.exec();
  };

  return (
    <section aria-labelledby="coord-h">
      <h2 id="coord-h">Coordinators</h2>
      {manage && (
        <form className="form-row" onSubmit={submit} aria-label="Create a coordinator">
          <div className="field">
            <label htmlFor="coord-name">Coordinator name</label>
            <input id="coord-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="coord-host">Host</label>
            <input id="coord-host" required value={host} onChange={(e) => setHost(e.target.value)} />
          </div>
          <button type="submit" disabled={create.pending || !name.trim() || !host.trim()}>
            Create coordinator
          </button>
        </form>
      )}
      {create.error && <ErrorView error={create.error} title="Coordinator not created" />}
      {remove.error && <ErrorView error={remove.error} title="Coordinator not deleted" />}
      <Show data={list} what="coordinators">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>No coordinators.</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Host</th>
                      <th scope="col">Status</th>
                      <th scope="col">Workers online</th>
                      <th scope="col">Running / capacity</th>
                      {manage && <th scope="col">Actions</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((c) => (
                      <tr key={c.id}>
                        <td>{c.name}</td>
                        <td>
                          <code>{c.host}</code>
                        </td>
                        <td>
                          <StatusBadge status={c.status} />
                        </td>
                        <td>
                          {c.online_workers} / {c.worker_count}
                        </td>
                        <td>
                          {c.running_tasks} / {c.capacity}
                        </td>
                        {manage && (
                          <td className="row">
                            <InlineRename
                              what={`coordinator ${c.name}`}
                              value={c.name}
                              onSave={async (n) => {
                                try {
                                  await unwrap(api.PATCH("/coordinators/{id}", { params: { path: { id: c.id } }, body: { name: n } }));
                                  list.reload();
                                  return null;
                                } catch (err) {
                                  return toApiError(err);
                                }
                              }}
                            />
                            <button
                              type="button"
                              className="danger"
                              disabled={remove.pending}
                              onClick={() => {
                                if (window.confirm(`Delete coordinator ${c.name}?`)) void remove.exec(c.id);
                              }}
                            >
                              Delete<span className="visually-hidden"> coordinator {c.name}</span>
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
