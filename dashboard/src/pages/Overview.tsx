import { useEffect, useRef, useState } from "react";
import { unwrap } from "../api/client";
import type { Query, Schema } from "../api/types";
import { ExecutionsChart } from "../chart/ExecutionsChart";
import { useSession } from "../session/session";
import { Link } from "../router/router";
import { ExecutionTable } from "../ui/ExecutionTable";
import { Empty, Page, Show } from "../ui/states";
import { useApiData } from "../ui/useApiData";
import { useI18n } from "../i18n/i18n";
import { useConnected, useLiveEvent } from "../events/LiveEvents";
import type { Messages } from "../i18n/en";
import type { Formatter } from "../i18n/format";

type Range = NonNullable<Query<"dashboard-metrics">["range"]>;
const ranges: Range[] = ["24h", "7d", "30d"];

export default function Overview() {
  const { api, me, can, canSomewhere } = useSession();
  const { t, fmt } = useI18n();
  const [range, setRange] = useState<Range>("24h");
  const readable = can("organization.read");
  const summary = useApiData(() => unwrap(api.GET("/dashboard/summary")), []);
  const metrics = useApiData(() => unwrap(api.GET("/dashboard/metrics", { params: { query: { range } } })), [range]);
  const recent = useApiData(() => unwrap(api.GET("/dashboard/recent", { params: { query: { limit: 10 } } })), []);

  // Keep the numbers current while the page is open: on summary.changed (the server
  // coalesces them) and on every reconnect; every 15 s only while disconnected.
  const connected = useConnected();
  const refresh = () => {
    summary.reload();
    metrics.reload();
    recent.reload();
  };
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  useLiveEvent(["summary.changed", "connected"], refresh);
  useEffect(() => {
    if (connected) return;
    const timer = window.setInterval(() => refreshRef.current(), 15_000);
    return () => window.clearInterval(timer);
  }, [connected]);

  return (
    <Page
      title={t.nav.overview}
      actions={
        canSomewhere("agents.execute") && (
          <Link to="/launch" className="button primary">
            {t.overview.launch}
          </Link>
        )
      }
    >
      <p className="muted">{t.overview.youAre(me.organization.name, t.roles[me.role as keyof Messages["roles"]] ?? me.role)}</p>
      {!readable ? (
        <Empty>{t.overview.cannotRead}</Empty>
      ) : (
        <>
          <Show data={summary} what={t.overview.summaryWhat}>
            {(s) => (
              <>
                <FirstRun s={s} />
                <SummaryCards s={s} t={t} fmt={fmt} />
              </>
            )}
          </Show>
          <section className="panel" aria-labelledby="chart-h">
            <div className="row">
              <h2 id="chart-h">{t.overview.chartTitle}</h2>
              <div className="segmented push-right" role="group" aria-label={t.overview.range}>
                {ranges.map((r) => (
                  <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
                    {t.overview.ranges[r]}
                  </button>
                ))}
              </div>
            </div>
            <Show data={metrics} what={t.overview.chartWhat}>
              {(m) => <ExecutionsChart points={m.points ?? []} unit={m.bucket} caption={t.overview.chartCaption(m.bucket, t.overview.ranges[m.range as Range] ?? m.range)} />}
            </Show>
          </section>
          <section aria-labelledby="recent-h">
            <h2 id="recent-h">{t.overview.recent}</h2>
            <Show data={recent} what={t.overview.recent}>
              {(r) => <ExecutionTable items={r.items ?? []} caption={t.overview.recent} />}
            </Show>
          </section>
        </>
      )}
    </Page>
  );
}

/** FirstRun: the three steps to a first agent run, until they are done. */
function FirstRun({ s }: { s: Schema<"SummaryOut"> }) {
  const { t } = useI18n();
  const steps = [
    { done: s.repositories > 0, text: t.overview.step1, to: "/repositories" },
    { done: s.workers.online + s.workers.busy > 0 || s.executions.total > 0, text: t.overview.step2, to: "/workers" },
    { done: s.executions.total > 0, text: t.overview.step3, to: "/launch" },
  ];
  if (steps.every((x) => x.done)) return null;
  return (
    <section className="panel" aria-labelledby="first-run-h">
      <h2 id="first-run-h">{t.overview.firstRun}</h2>
      <ol className="checklist">
        {steps.map((x) => (
          <li key={x.to} className={x.done ? "done" : undefined}>
            <span aria-hidden="true">{x.done ? "✓ " : "○ "}</span>
            {x.done ? <s>{x.text}</s> : <Link to={x.to}>{x.text}</Link>}
            <span className="visually-hidden"> {x.done ? t.overview.stepDone : t.overview.stepTodo}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function SummaryCards({ s, t, fmt }: { s: Schema<"SummaryOut">; t: Messages; fmt: Formatter }) {
  const by = s.executions.by_status;
  const n = (k: string) => by[k] ?? 0;
  const workersUp = s.workers.online + s.workers.busy;
  const cards: { label: string; value: string; note?: string; warn?: boolean }[] = [
    { label: t.overview.executions, value: fmt.number(s.executions.total) },
    {
      label: t.overview.queued,
      value: fmt.number(n("pending")),
      // Queued work with nobody to run it is the first thing to know.
      note: n("pending") > 0 && workersUp === 0 ? t.overview.queuedNoWorker : undefined,
      warn: n("pending") > 0 && workersUp === 0,
    },
    { label: t.overview.running, value: fmt.number(n("running")) },
    {
      label: t.overview.successRate,
      value: s.success_rate == null ? "—" : fmt.percent(s.success_rate),
      note: t.overview.successNote(fmt.number(n("completed")), fmt.number(n("failed")), fmt.number(n("cancelled"))),
    },
    { label: t.overview.meanDuration, value: s.mean_duration_ms == null ? "—" : fmt.duration(s.mean_duration_ms), note: t.overview.meanNote },
    { label: t.nav.repositories, value: fmt.number(s.repositories) },
    { label: t.overview.prs, value: fmt.number(s.prs_created) },
    { label: t.overview.workersOnline, value: t.overview.workersValue(fmt.number(workersUp), fmt.number(s.workers.busy)) },
    { label: t.overview.tasksPending, value: fmt.number(s.tasks.by_status.pending ?? 0) },
  ];
  return (
    <ul className="cards plain-cards" aria-label={t.overview.summary}>
      {cards.map((c) => (
        <li className={`card${c.warn ? " card-warn" : ""}`} key={c.label}>
          <div className="value">{c.value}</div>
          <div className="label">{c.label}</div>
          {c.note && (
            <div className="note small">
              {c.note}
              {c.warn && (
                <>
                  {" "}
                  <Link to="/workers">{t.nav.workers}</Link>
                </>
              )}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}
