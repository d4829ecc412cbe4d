import type { Schema } from "../../api/types";
import type { DagViewNode } from "../../dag/DagView";

export type Definition = Schema<"WorkflowDefinition">;

export function dagNodes(d: Definition): DagViewNode[] {
  return (d.nodes ?? []).map((n) => ({ id: n.id, label: n.name || n.id, detail: n.agent_type }));
}
