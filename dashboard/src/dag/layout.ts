// Layered layout of a workflow definition: a node's layer is the longest path from a
// source, so every edge points right; within a layer, a few barycentre sweeps reduce
// crossings. Pure, so it is unit-tested without a browser.

export interface DagNodeIn {
  id: string;
}
export interface DagEdgeIn {
  from: string;
  to: string;
}

export interface PlacedNode {
  id: string;
  layer: number;
  order: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** SVG path from the right side of `from` to the left side of `to`. */
  path: string;
}

export interface DagLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
  /** Nodes on a cycle (or downstream of one): an invalid definition, drawn in a last column. */
  cyclic: string[];
  /** Edges naming a node that does not exist. */
  dangling: DagEdgeIn[];
}

export const box = { width: 168, height: 48, gapX: 64, gapY: 20, pad: 12 };

export function layoutDag(nodesIn: DagNodeIn[], edgesIn: DagEdgeIn[]): DagLayout {
  const ids = new Set(nodesIn.map((n) => n.id));
  const dangling = edgesIn.filter((e) => !ids.has(e.from) || !ids.has(e.to));
  const edges = dedupe(edgesIn.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to));
  const selfLoops = edgesIn.filter((e) => e.from === e.to && ids.has(e.from)).map((e) => e.from);

  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const n of nodesIn) {
    preds.set(n.id, []);
    succs.set(n.id, []);
  }
  for (const e of edges) {
    succs.get(e.from)!.push(e.to);
    preds.get(e.to)!.push(e.from);
  }

  // Kahn's order; the layer of a node is 1 + the deepest layer among its predecessors.
  const layer = new Map<string, number>();
  const indegree = new Map(nodesIn.map((n) => [n.id, preds.get(n.id)!.length]));
  const queue = nodesIn.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    const l = Math.max(-1, ...preds.get(id)!.map((p) => layer.get(p) ?? -1)) + 1;
    layer.set(id, l);
    for (const s of succs.get(id)!) {
      indegree.set(s, indegree.get(s)! - 1);
      if (indegree.get(s) === 0) queue.push(s);
    }
  }
  const cyclic = nodesIn.filter((n) => !layer.has(n.id)).map((n) => n.id);
  for (const id of selfLoops) if (!cyclic.includes(id)) cyclic.push(id);
  const deepest = Math.max(-1, ...layer.values());
  for (const id of cyclic) if (!layer.has(id)) layer.set(id, deepest + 1);

  const layerCount = Math.max(0, ...layer.values()) + (nodesIn.length ? 1 : 0);
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const n of nodesIn) layers[layer.get(n.id)!]!.push(n.id);

  // Barycentre sweeps: order each layer by the mean position of its neighbours in the
  // layer before (down) or after (up). Ties keep the previous order: stable output.
  const pos = new Map<string, number>();
  const index = () => layers.forEach((l) => l.forEach((id, i) => pos.set(id, i)));
  index();
  const sortBy = (l: string[], neighbours: (id: string) => string[]) => {
    const key = new Map(
      l.map((id) => {
        const ns = neighbours(id);
        return [id, ns.length ? ns.reduce((a, n) => a + pos.get(n)!, 0) / ns.length : pos.get(id)!];
      }),
    );
    l.sort((a, b) => key.get(a)! - key.get(b)! || pos.get(a)! - pos.get(b)!);
    l.forEach((id, i) => pos.set(id, i));
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let i = 1; i < layers.length; i++) sortBy(layers[i]!, (id) => preds.get(id)!);
    for (let i = layers.length - 2; i >= 0; i--) sortBy(layers[i]!, (id) => succs.get(id)!);
  }

  const tallest = Math.max(0, ...layers.map((l) => l.length));
  const height = tallest ? box.pad * 2 + tallest * box.height + (tallest - 1) * box.gapY : 0;
  const width = layerCount ? box.pad * 2 + layerCount * box.width + (layerCount - 1) * box.gapX + (cyclic.length ? box.gapX / 2 : 0) : 0;
  const placed = new Map<string, PlacedNode>();
  layers.forEach((l, li) => {
    const columnHeight = l.length * box.height + (l.length - 1) * box.gapY;
    const top = (height - columnHeight) / 2;
    l.forEach((id, oi) => {
      placed.set(id, { id, layer: li, order: oi, x: box.pad + li * (box.width + box.gapX), y: top + oi * (box.height + box.gapY) });
    });
  });

  const placedEdges = edges.map((e) => {
    const a = placed.get(e.from)!;
    const b = placed.get(e.to)!;
    const x1 = a.x + box.width;
    const y1 = a.y + box.height / 2;
    const y2 = b.y + box.height / 2;
    if (b.layer <= a.layer) {
      // Only in an invalid (cyclic) definition: loop round the right-hand side.
      const x2 = b.x + box.width;
      const out = Math.max(x1, x2) + box.gapX / 2;
      return { from: e.from, to: e.to, path: `M${x1},${y1} C${out},${y1} ${out},${y2} ${x2},${y2}` };
    }
    const x2 = b.x;
    const bend = Math.max(24, Math.abs(x2 - x1) / 2);
    return { from: e.from, to: e.to, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` };
  });

  return { nodes: nodesIn.map((n) => placed.get(n.id)!), edges: placedEdges, width, height, cyclic, dangling };
}

function dedupe(edges: DagEdgeIn[]): DagEdgeIn[] {
  const seen = new Set<string>();
  return edges.filter((e) => {
    const k = `${e.from}\u0000${e.to}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** crossings counts edge crossings between adjacent layers (used by tests to hold the layout to account). */
export function crossings(l: DagLayout): number {
  const byId = new Map(l.nodes.map((n) => [n.id, n]));
  const segs = l.edges.map((e) => ({ a: byId.get(e.from)!, b: byId.get(e.to)! })).filter((s) => s.b.layer === s.a.layer + 1);
  let n = 0;
  for (let i = 0; i < segs.length; i++)
    for (let j = i + 1; j < segs.length; j++) {
      const s = segs[i]!;
      const t = segs[j]!;
      if (s.a.layer !== t.a.layer) continue;
      if ((s.a.order - t.a.order) * (s.b.order - t.b.order) < 0) n++;
    }
  return n;
}
