// The executions-over-time chart as numbers: buckets in time order with gaps filled,
// stacked by status, a y scale with round ticks, and thinned x labels. Drawn by
// ExecutionsChart in plain SVG (no chart library: the bundle stays small).
import type { Schema } from "../api/types";

export type MetricsPoint = Schema<"MetricsPointOut">;
export type BucketUnit = Schema<"MetricsOutputBody">["bucket"];

export const statuses = ["completed", "failed", "cancelled", "running", "pending"] as const;
export type ChartStatus = (typeof statuses)[number];

export { statusColours } from "../ui/statusColours";

const unitMs: Record<BucketUnit, number> = { hour: 3_600_000, day: 86_400_000 };

/**
 * fillGaps answers the points in time order, one per bucket from the first to the last,
 * a zero bucket wherever the answer had none. (The server fills gaps today; the chart must
 * not draw a wrong time axis if it ever answers sparsely.)
 */
export function fillGaps(points: MetricsPoint[], unit: BucketUnit): MetricsPoint[] {
  if (points.length === 0) return [];
  const step = unitMs[unit];
  const byTime = new Map(points.map((p) => [Date.parse(p.at), p]));
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const out: MetricsPoint[] = [];
  for (let t = times[0]!; t <= times[times.length - 1]!; t += step) {
    out.push(
      byTime.get(t) ?? { at: new Date(t).toISOString(), completed: 0, failed: 0, cancelled: 0, running: 0, pending: 0, total: 0 },
    );
  }
  return out;
}

/** niceMax rounds a maximum up to 1, 2 or 5 times a power of ten (at least 1). */
export function niceMax(max: number): number {
  if (max <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export interface Segment {
  status: ChartStatus;
  count: number;
  y: number;
  height: number;
}
export interface Bar {
  at: string;
  x: number;
  width: number;
  total: number;
  segments: Segment[];
  label: string | null;
}
export interface ChartModel {
  bars: Bar[];
  yMax: number;
  ticks: number[];
  plot: { left: number; top: number; width: number; height: number };
  total: number;
}

export function chartModel(
  points: MetricsPoint[],
  unit: BucketUnit,
  size: { width: number; height: number },
  formatLabel: (d: Date, unit: BucketUnit) => string = defaultLabel,
): ChartModel {
  const filled = fillGaps(points, unit);
  const plot = { left: 36, top: 8, width: size.width - 44, height: size.height - 32 };
  const totals = filled.map((p) => statuses.reduce((a, s) => a + p[s], 0));
  const yMax = niceMax(Math.max(0, ...totals));
  const ticks = [0, yMax / 2, yMax].filter((t, i, a) => Number.isInteger(t) && a.indexOf(t) === i);
  const slot = filled.length ? plot.width / filled.length : 0;
  const every = Math.max(1, Math.ceil(filled.length / 8)); // at most ~8 labels
  const bars = filled.map((p, i) => {
    let y = plot.top + plot.height;
    const segments: Segment[] = [];
    for (const s of statuses) {
      if (!p[s]) continue;
      const h = (p[s] / yMax) * plot.height;
      y -= h;
      segments.push({ status: s, count: p[s], y, height: h });
    }
    return {
      at: p.at,
      x: plot.left + i * slot + slot * 0.15,
      width: slot * 0.7,
      total: totals[i]!,
      segments,
      label: (filled.length - 1 - i) % every === 0 ? formatLabel(new Date(p.at), unit) : null,
    };
  });
  return { bars, yMax, ticks, plot, total: totals.reduce((a, b) => a + b, 0) };
}

function defaultLabel(d: Date, unit: BucketUnit): string {
  return unit === "hour"
    ? `${String(d.getUTCHours()).padStart(2, "0")}:00`
    : `${d.getUTCMonth() + 1}/${d.getUTCDate()}`;
}
