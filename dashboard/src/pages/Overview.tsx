import { useEffect, useState } from "react";
import { unwrap } from "../api/client";
import type { Query, Schema } from "../api/types";
import { ExecutionsChart } from "../chart/ExecutionsChart";
import { useSession } from "../session/session";
import { Link } from "../router/router";
import { ExecutionTable } from "../ui/ExecutionTable";
import { Empty, Page, Show } from "../ui/states";
import { useApiData } from "../ui/useApiData";
import { useConnected, useLiveEvent } from "../events/LiveEvents";

type Range = NonNullable<Query<"dashboard-metrics">["range"]>;
const ranges: { value: Range; label: string }[] = [
  { value: "24h", label: "24 hours" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
];

export default function Overview() {
  const { api, me, can, canSomewhere } = useSession();
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
  useLiveEvent(["summary.changed", "connected"], refresh);
  useEffect(() => {
    if (connected) return;
    const t = window.setInterval(() => {
      summary.reload();
      metrics.reload();
      recent.reload();
    }, 15_000);
    return () => window.clearInterval(t);
  }, [connected, summary.reload, metrics.reload, recent.reload]);

  return (
    <Page
      title="Overview"
      actions={
        canSomewhere("agents.execute") && (
          <Link to="/launch" className="button primary">
            Launch an agent
          </Link>
        )
      }
    >
      <p className="muted">
        {me.organization.name} · you are {me.role}
      </p>
      {!readable ? (
        <Empty>Your role cannot read this organization's overview.</Empty>
      ) : (
        <>
          <Show data={summary} what="the summary">
            {(s) => <SummaryCards s={s} />}
          </Show>
          <section className="panel" aria-labelledby="chart-h">
            <div className="row">
              <h2 id="chart-h">Executions over time</h2>
              <div className="segmented push-right" role="group" aria-label="Time range">
                {ranges.map((r) => (
                  <button key={r.value} type="button" aria-pressed={range === r.value} onClick={() => setRange(r.value)}>
                    {r.label}
                  </button>
                ))}
              </div>
            </div>
            <Show data={metrics} what="the chart">
              {(m) => (
                <ExecutionsChart
                  points={m.points ?? []}
                  unit={m.bucket}
                  caption={`Executions per ${m.bucket}, last ${ranges.find((r) => r.value === m.range)?.label ?? m.range}`}
                />
              )}
            </Show>
          </section>
          <section aria-labelledby="recent-h">
            <h2 id="recent-h">Recent executions</h2>
            <Show data={recent} what="recent executions">
              {(r) =>
                (r.items ?? []).length === 0 ? (
                  <Empty>No executions yet.</Empty>
                ) : (
                  <ExecutionTable items={r.items ?? []} caption="Recent executions" />
                )
              }
            </Show>
          </section>
        </>
      )}
    </Page>
  );
}

function SummaryCards({ s }: { s: Schema<"SummaryOut"> }) {
  const by = s.executions.by_status;
  const cards: [string, string][] = [
    ["Executions", String(s.executions.total)],
    ["Running", String((by.running ?? 0) + (by.pending ?? 0))],
    ["Success rate", s.success_rate == null ? "—" : `${Math.round(s.success_rate * 100)}%`],
    ["Mean duration", s.mean_duration_ms == null ? "—" : formatDuration(s.mean_duration_ms)],
    ["Repositories", String(s.repositories)],
    ["PRs created", String(s.prs_created)],
    ["Workers online", `${s.workers.online} (${s.workers.busy} busy)`],
    ["Tasks pending", String(s.tasks.by_status.pending ?? 0)],
  ];
  return (
    <ul className="cards plain-cards" aria-label="Summary">
      {cards.map(([label, value]) => (
        <li className="card" key={label}>
          <div className="value">{value}</div>
          <div className="label">{label}</div>
        </li>
      ))}
    </ul>
  );
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
