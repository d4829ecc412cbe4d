import { describe, expect, it } from "vitest";
import { chartModel, fillGaps, niceMax, type MetricsPoint } from "./buckets";

const pt = (at: string, c: Partial<MetricsPoint> = {}): MetricsPoint => ({
  at, completed: 0, failed: 0, cancelled: 0, running: 0, pending: 0, total: 0, ...c,
});

describe("fillGaps", () => {
  it("sorts buckets and fills the missing hours with zeros", () => {
    const got = fillGaps([pt("2026-01-01T03:00:00Z", { completed: 2 }), pt("2026-01-01T00:00:00Z", { failed: 1 })], "hour");
    expect(got.map((p) => [p.at.slice(11, 16), p.completed + p.failed])).toEqual([
      ["00:00", 1], ["01:00", 0], ["02:00", 0], ["03:00", 2],
    ]);
  });

  it("steps by day for daily buckets", () => {
    const got = fillGaps([pt("2026-01-01T00:00:00Z"), pt("2026-01-04T00:00:00Z")], "day");
    expect(got).toHaveLength(4);
  });

  it("answers nothing for nothing", () => {
    expect(fillGaps([], "day")).toEqual([]);
  });
});

describe("niceMax", () => {
  it.each([[0, 1], [1, 1], [3, 5], [7, 10], [11, 20], [49, 50], [51, 100], [1234, 2000]])("%d -> %d", (n, want) => {
    expect(niceMax(n)).toBe(want);
  });
});

describe("chartModel", () => {
  const size = { width: 644, height: 232 };
  const points = Array.from({ length: 24 }, (_, h) =>
    pt(`2026-01-01T${String(h).padStart(2, "0")}:00:00Z`, h === 5 ? { completed: 3, failed: 1, running: 1 } : {}),
  );

  it("stacks each bucket's statuses to its total height", () => {
    const m = chartModel(points, "hour", size);
    expect(m.yMax).toBe(5);
    expect(m.total).toBe(5);
    const bar = m.bars[5]!;
    expect(bar.total).toBe(5);
    expect(bar.segments.map((s) => s.status)).toEqual(["completed", "failed", "running"]);
    const stacked = bar.segments.reduce((a, s) => a + s.height, 0);
    expect(stacked).toBeCloseTo(m.plot.height); // the tallest bar fills the plot
    // Segments touch: each starts where the one below ended.
    for (let i = 1; i < bar.segments.length; i++) {
      expect(bar.segments[i]!.y + bar.segments[i]!.height).toBeCloseTo(bar.segments[i - 1]!.y);
    }
    expect(m.bars.filter((b) => b.segments.length > 0)).toHaveLength(1);
  });

  it("labels at most about eight buckets, always the newest", () => {
    const m = chartModel(points, "hour", size);
    const labelled = m.bars.filter((b) => b.label !== null);
    expect(labelled.length).toBeLessThanOrEqual(8);
    expect(m.bars[23]!.label).toBe("23:00");
  });

  it("keeps bars inside the plot and apart", () => {
    const m = chartModel(points, "hour", size);
    for (const b of m.bars) {
      expect(b.x).toBeGreaterThanOrEqual(m.plot.left);
      expect(b.x + b.width).toBeLessThanOrEqual(m.plot.left + m.plot.width + 0.001);
    }
    expect(m.bars[1]!.x - m.bars[0]!.x).toBeGreaterThan(m.bars[0]!.width);
  });

  it("draws an empty range as a flat axis with a scale of 1", () => {
    const m = chartModel(points.map((p) => pt(p.at)), "hour", size);
    expect(m.yMax).toBe(1);
    expect(m.total).toBe(0);
    expect(m.bars.every((b) => b.segments.length === 0)).toBe(true);
  });
});
