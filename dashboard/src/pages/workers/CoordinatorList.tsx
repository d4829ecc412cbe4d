import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { DataTable, type Column } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { ErrorView, StatusBadge } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { InlineRename } from "../../ui/InlineRename";
import { toApiError } from "../../api/problem";

/** Coordinators group the workers of one host. */
export function CoordinatorList() {
  const { api, can } = useSession();
  const t = useT();
  const list = useListQuery("/coordinators", [], { prefix: "coordinators.", refreshOn: ["worker.updated"] });
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

  const columns: Column<Schema<"CoordinatorOut">>[] = [
    { header: t.common.name, cell: (c) => c.name },
    { header: t.coordinators.host, priority: "low", cell: (c) => <code>{c.host}</code> },
    { header: t.common.status, cell: (c) => <StatusBadge status={c.status} /> },
    { header: t.coordinators.online, cell: (c) => `${c.online_workers} / ${c.worker_count}` },
    { header: t.coordinators.capacity, priority: "low", cell: (c) => `${c.running_tasks} / ${c.capacity}` },
    {
      header: t.common.actions,
      show: manage,
      cell: (c) => (
        <div className="row">
          <InlineRename
            what={t.coordinators.what(c.name)}
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
              if (window.confirm(t.coordinators.confirmDelete(c.name))) void remove.exec(c.id);
            }}
          >
            {t.common.delete}
            <span className="visually-hidden"> {t.coordinators.what(c.name)}</span>
          </button>
        </div>
      ),
    },
  ];

  return (
    <section aria-labelledby="coord-h">
      <h2 id="coord-h">{t.coordinators.title}</h2>
      <p className="muted">{t.coordinators.intro}</p>
      {manage && (
        <form className="form-row" onSubmit={submit} aria-label={t.coordinators.create}>
          <div className="field">
            <label htmlFor="coord-name">{t.coordinators.name}</label>
            <input id="coord-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="coord-host">{t.coordinators.host}</label>
            <input id="coord-host" required value={host} onChange={(e) => setHost(e.target.value)} />
          </div>
          <button type="submit" disabled={create.pending || !name.trim() || !host.trim()}>
            {t.coordinators.create}
          </button>
        </form>
      )}
      {create.error && <ErrorView error={create.error} title={t.coordinators.notCreated} />}
      {remove.error && <ErrorView error={remove.error} title={t.coordinators.notDeleted} />}
      <DataTable data={list.list} what={t.coordinators.title} caption={t.coordinators.title} rowKey={(c) => c.id} columns={columns} empty={t.coordinators.empty} onPage={list.setPage} />
    </section>
  );
}
