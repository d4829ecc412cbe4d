import { useMemo } from "react";
import { box, layoutDag, type DagEdgeIn } from "./layout";

export interface DagViewNode {
  id: string;
  label: string;
  detail?: string;
  /** A run's status for the node, when drawing a run. */
  status?: string;
}

const statusColour: Record<string, string> = {
  completed: "#17703a",
  failed: "#b42318",
  running: "#1a4f9e",
  pending: "#8a5a00",
  cancelled: "#6b7280",
};

/** DagView draws a workflow definition (or a run of it) left to right, in SVG. */
export function DagView({ nodes, edges, title }: { nodes: DagViewNode[]; edges: DagEdgeIn[]; title: string }) {
  const layout = useMemo(() => layoutDag(nodes, edges), [nodes, edges]);
  const byId = useMemo(() => new Map(nodes.map((n) => [n.id, n])), [nodes]);
  if (nodes.length === 0) return <p className="muted">No nodes.</p>;
  const markerId = `arrow-${title.replace(/[^a-zA-Z0-9]/g, "")}`;
  return (
    <figure className="dag">
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
        role="img"
        aria-label={`${title}: ${nodes.length} nodes, ${edges.length} edges`}
      >
        <defs>
          <marker id={markerId} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" fill="#5a6270" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <path key={`${e.from}->${e.to}`} d={e.path} fill="none" stroke="#8a93a0" strokeWidth={1.5} markerEnd={`url(#${markerId})`} />
        ))}
        {layout.nodes.map((p) => {
          const n = byId.get(p.id)!;
          const colour = n.status ? (statusColour[n.status] ?? "#5a6270") : "#1f5fbf";
          const bad = layout.cyclic.includes(p.id);
          return (
            <g key={p.id} transform={`translate(${p.x},${p.y})`}>
              <rect width={box.width} height={box.height} rx={6} fill="#fff" stroke={bad ? "#b42318" : colour} strokeWidth={bad ? 2.5 : 1.5} strokeDasharray={bad ? "4 3" : undefined} />
              <rect width={5} height={box.height} rx={2} fill={colour} />
              <text x={12} y={19} fontSize={13} fontWeight={600} fill="#1b1f24">
                {clip(n.label, 20)}
              </text>
              <text x={12} y={36} fontSize={11} fill="#5a6270">
                {clip([n.detail, n.status].filter(Boolean).join(" · "), 26)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="visually-hidden">
        <ul>
          {nodes.map((n) => (
            <li key={n.id}>
              {n.label}
              {n.detail ? ` (${n.detail})` : ""}
              {n.status ? `: ${n.status}` : ""}
              {edges.filter((e) => e.to === n.id).length > 0 &&
                `, after ${edges.filter((e) => e.to === n.id).map((e) => byId.get(e.from)?.label ?? e.from).join(", ")}`}
            </li>
          ))}
        </ul>
      </figcaption>
      {layout.cyclic.length > 0 && (
        <p className="error">Cycle through: {layout.cyclic.map((id) => byId.get(id)?.label ?? id).join(", ")}</p>
      )}
    </figure>
  );
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
