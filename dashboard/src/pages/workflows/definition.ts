import type { Schema } from "../../api/types";
import type { DagViewNode } from "../../dag/DagView";

export type Definition = Schema<"WorkflowDefinition">;

export function dagNodes(d: Definition): DagViewNode[] {
  return (d.nodes ?? []).map((n) => ({ id: n.id, label: n.name || n.id, detail: n.agent_type }));
}

/**
 * nextEdge is what "Add edge" starts with: the first pair, in node order, that is not an
 * edge yet (never a copy of an existing one); empty ends to choose when every pair is taken.
 */
export function nextEdge(ids: string[], edges: { from: string; to: string }[]): { from: string; to: string } {
  const taken = new Set(edges.map((e) => `${e.from}\u0000${e.to}`));
  for (let i = 0; i < ids.length; i++)
    for (let j = i + 1; j < ids.length; j++) if (!taken.has(`${ids[i]}\u0000${ids[j]}`)) return { from: ids[i]!, to: ids[j]! };
  return { from: "", to: "" };
}
