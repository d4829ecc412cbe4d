import { useMemo } from "react";
import { chartModel, statusColours, statuses, type BucketUnit, type MetricsPoint } from "./buckets";
import { useI18n } from "../i18n/i18n";

const size = { width: 644, height: 232 };

/** A stacked bar chart of executions per bucket, by status. */
export function ExecutionsChart({ points, unit, caption }: { points: MetricsPoint[]; unit: BucketUnit; caption: string }) {
  const { t, fmt } = useI18n();
  // Axis and tooltips in the same zone as every other time on the page.
  const m = useMemo(() => chartModel(points, unit, size, (d, u) => fmt.bucket(d, u)), [points, unit, fmt]);
  const { plot } = m;
  const yOf = (v: number) => plot.top + plot.height - (v / m.yMax) * plot.height;
  return (
    <figure className="chart">
      {/* scrolls sideways on a phone: keyboard users can reach it too */}
      <div className="chart-scroll" tabIndex={0} role="group" aria-label={`${caption} (chart)`}>
        <svg viewBox={`0 0 ${size.width} ${size.height}`} role="img" aria-label={t.chart.label(caption, fmt.number(m.total))}>
          {m.ticks.map((t) => (
            <g key={t}>
              <line x1={plot.left} x2={plot.left + plot.width} y1={yOf(t)} y2={yOf(t)} stroke="#e1e5ea" />
              <text x={plot.left - 6} y={yOf(t) + 4} fontSize={11} textAnchor="end" fill="#5a6270">
                {t}
              </text>
            </g>
          ))}
          {m.bars.map((b) => (
            <g key={b.at}>
              <title>
                {t.chart.tooltip(fmt.dateTime(b.at), fmt.zoneLabel, b.total)}
                {b.segments.map((s) => `, ${s.count} ${t.status[s.status]}`).join("")}
              </title>
              {b.segments.map((s) => (
                <rect key={s.status} x={b.x} y={s.y} width={b.width} height={Math.max(s.height, 0.5)} fill={statusColours[s.status]} />
              ))}
              {/* a transparent hit area so the tooltip works on empty buckets too */}
              <rect x={b.x} y={plot.top} width={b.width} height={plot.height} fill="transparent" />
              {b.label && (
                <text x={b.x + b.width / 2} y={plot.top + plot.height + 16} fontSize={11} textAnchor="middle" fill="#5a6270">
                  {b.label}
                </text>
              )}
            </g>
          ))}
          <line x1={plot.left} x2={plot.left + plot.width} y1={plot.top + plot.height} y2={plot.top + plot.height} stroke="#8a93a0" />
        </svg>
      </div>
      <figcaption>
        <ul className="legend">
          {statuses.map((s) => (
            <li key={s}>
              <span className="swatch" style={{ background: statusColours[s] }} aria-hidden="true" />
              {t.status[s]}
            </li>
          ))}
        </ul>
        <span className="muted small">{t.shell.timesIn(fmt.zoneLabel)}</span>
      </figcaption>
    </figure>
  );
}
