import { describe, expect, it } from "vitest";
import { crossings, layoutDag } from "./layout";

const n = (...ids: string[]) => ids.map((id) => ({ id }));
const e = (...pairs: string[]) => pairs.map((p) => ({ from: p[0]!, to: p[1]! }));

describe("layoutDag", () => {
  it("puts each node one layer right of its deepest predecessor", () => {
    // a -> b -> d, a -> c -> d, a -> d: d sits after b and c, not next to a.
    const l = layoutDag(n("a", "b", "c", "d"), e("ab", "ac", "bd", "cd", "ad"));
    const layer = Object.fromEntries(l.nodes.map((x) => [x.id, x.layer]));
    expect(layer).toEqual({ a: 0, b: 1, c: 1, d: 2 });
    for (const edge of l.edges) expect(layer[edge.to]!).toBeGreaterThan(layer[edge.from]!);
    expect(l.cyclic).toEqual([]);
  });

  it("keeps independent nodes in the first layer, stacked without overlap", () => {
    const l = layoutDag(n("x", "y", "z"), []);
    expect(l.nodes.map((x) => x.layer)).toEqual([0, 0, 0]);
    const ys = l.nodes.map((x) => x.y).sort((a, b) => a - b);
    expect(ys[1]! - ys[0]!).toBeGreaterThanOrEqual(48);
    expect(l.width).toBeGreaterThan(0);
    expect(l.height).toBeGreaterThan(ys[2]!);
  });

  it("untangles crossings a naive order would draw", () => {
    // Given in an order that crosses: a->d, b->c.
    const l = layoutDag(n("a", "b", "c", "d"), e("ad", "bc"));
    expect(crossings(l)).toBe(0);
  });

  it("reports a cycle instead of looping, and still places every node", () => {
    const l = layoutDag(n("a", "b", "c"), e("ab", "bc", "cb"));
    expect(l.cyclic.sort()).toEqual(["b", "c"]);
    expect(l.nodes).toHaveLength(3);
    expect(l.nodes.every((x) => Number.isFinite(x.x) && Number.isFinite(x.y))).toBe(true);
  });

  it("reports edges to unknown nodes and does not draw them", () => {
    const l = layoutDag(n("a"), [{ from: "a", to: "ghost" }]);
    expect(l.dangling).toEqual([{ from: "a", to: "ghost" }]);
    expect(l.edges).toEqual([]);
  });

  it("answers an empty drawing for an empty definition", () => {
    const l = layoutDag([], []);
    expect(l).toMatchObject({ nodes: [], edges: [], width: 0, height: 0 });
  });

  it("lays out 50 nodes quickly and deterministically", () => {
    const nodes = Array.from({ length: 50 }, (_, i) => ({ id: `n${i}` }));
    const edges = nodes.slice(1).map((x, i) => ({ from: `n${Math.floor(i / 2)}`, to: x.id }));
    const a = layoutDag(nodes, edges);
    const b = layoutDag(nodes, edges);
    expect(a).toEqual(b);
    expect(Math.max(...a.nodes.map((x) => x.layer))).toBe(5);
  });
});
