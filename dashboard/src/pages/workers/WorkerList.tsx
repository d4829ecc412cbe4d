import { useEffect } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { DataTable, type Column } from "../../lists/DataTable";
import { Filters, SelectFilter } from "../../lists/Filters";
import { useListQuery } from "../../lists/useListQuery";
import { ErrorView, StatusBadge, Time } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { NewWorker } from "./NewWorker";

type Worker = Schema<"WorkerOut">;
const statuses = ["online", "busy", "offline"] as const;

/** A worker that never sent a heartbeat has never connected: said so, not painted "offline". */
export function WorkerStatus({ w }: { w: Pick<Worker, "status" | "last_heartbeat_at"> }) {
  return w.last_heartbeat_at == null ? <StatusBadge status="never" /> : <StatusBadge status={w.status} />;
}

export function WorkerList() {
  const { api, can } = useSession();
  const t = useT();
  const q = useListQuery("/workers", ["status"], { prefix: "workers.", refreshOn: ["worker.updated"] });
  // Online/offline also follows from heartbeats stopping (no event): look again every 10 s,
  // connected or not.
  const reload = q.reload;
  useEffect(() => {
    const timer = window.setInterval(reload, 10_000);
    return () => window.clearInterval(timer);
  }, [reload]);
  const revoke = useAction(async (w: Worker) => {
    await unwrap(api.DELETE("/workers/{id}", { params: { path: { id: w.id } } }));
    q.reload();
  });
  const manage = can("agents.manage");
  const columns: Column<Worker>[] = [
    { header: t.common.name, cell: (w) => w.name },
    { header: t.common.status, cell: (w) => <WorkerStatus w={w} /> },
    { header: t.workers.running, cell: (w) => `${w.running_tasks} / ${w.max_concurrency}` },
    { header: t.workers.agentTypes, priority: "low", cell: (w) => ((w.agent_types ?? []).length ? (w.agent_types ?? []).join(", ") : <span className="muted">{t.common.any}</span>) },
    { header: t.workers.lastHeartbeat, priority: "low", cell: (w) => (w.last_heartbeat_at ? <Time value={w.last_heartbeat_at} relative /> : <span className="muted">{t.workers.never}</span>) },
    { header: t.workers.version, priority: "low", cell: (w) => w.version || <span className="muted">—</span> },
    {
      header: t.common.actions,
      show: manage,
      cell: (w) => (
        <button
          type="button"
          className="danger"
          disabled={revoke.pending}
          onClick={() => {
            if (window.confirm(t.workers.confirmRevoke(w.name))) void revoke.exec(w);
          }}
        >
          {t.workers.revoke}
          <span className="visually-hidden"> {t.workers.what(w.name)}</span>
        </button>
      ),
    },
  ];

  return (
    <section aria-labelledby="workers-h">
      <h2 id="workers-h">{t.nav.workers}</h2>
      <p className="muted">{t.workers.intro}</p>
      {manage && <NewWorker onCreated={q.reload} />}
      <Filters>
        <SelectFilter id="worker-status" label={t.common.status} value={q.filters.status!} onChange={(v) => q.setFilters({ status: v })} options={statuses.map((s) => [s, t.status[s]])} />
      </Filters>
      {revoke.error && <ErrorView error={revoke.error} title={t.workers.notRevoked} />}
      <DataTable
        data={q.list}
        what={t.nav.workers}
        caption={t.nav.workers}
        rowKey={(w) => w.id}
        columns={columns}
        empty={q.filtered ? t.common.noMatch : `${t.workers.empty}${manage ? ` ${t.workers.emptyCreate}` : ""}`}
        onPage={q.setPage}
      />
    </section>
  );
}
