import { useMemo } from "react";
import { box, layoutDag, type DagEdgeIn } from "./layout";
import { navigate } from "../router/router";
import { useT } from "../i18n/i18n";
import { lookup } from "../i18n/en";

export interface DagViewNode {
  id: string;
  label: string;
  detail?: string;
  /** A run's status for the node, when drawing a run. */
  status?: string;
  /** Where the node leads (a run's node: its execution). */
  href?: string;
}

import { statusColours as statusColour } from "../ui/statusColours";

/** DagView draws a workflow definition (or a run of it) left to right, in SVG. */
export function DagView({ nodes, edges, title }: { nodes: DagViewNode[]; edges: DagEdgeIn[]; title: string }) {
  const layout = useMemo(() => layoutDag(nodes, edges), [nodes, edges]);
  const byId = useMemo(() => new Map(nodes.map((n) => [n.id, n])), [nodes]);
  const t = useT();
  if (nodes.length === 0) return <p className="muted">{t.dag.noNodes}</p>;
  const linked = nodes.some((n) => n.href);
  const markerId = `arrow-${title.replace(/[^a-zA-Z0-9]/g, "")}`;
  return (
    <figure className="dag">
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
        role={linked ? "group" : "img"}
        aria-label={t.dag.label(title, nodes.length, edges.length)}
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
          const status = n.status ? lookup(t.status, n.status) : undefined;
          const body = (
            <g transform={`translate(${p.x},${p.y})`}>
              <rect width={box.width} height={box.height} rx={6} fill="#fff" stroke={bad ? "#b42318" : colour} strokeWidth={bad ? 2.5 : 1.5} strokeDasharray={bad ? "4 3" : undefined} />
              <rect width={5} height={box.height} rx={2} fill={colour} />
              <text x={12} y={19} fontSize={13} fontWeight={600} fill="#1b1f24">
                {clip(n.label, 20)}
              </text>
              <text x={12} y={36} fontSize={11} fill="#5a6270">
                {clip([n.detail, status].filter(Boolean).join(" · "), 26)}
              </text>
            </g>
          );
          // A node with somewhere to go is a link (keyboard and pointer), opened in place.
          return n.href ? (
            <a
              key={p.id}
              href={n.href}
              onClick={(e) => {
                if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                e.preventDefault();
                navigate(n.href!);
              }}
            >
              {body}
            </a>
          ) : (
            <g key={p.id}>{body}</g>
          );
        })}
      </svg>
      <figcaption className="visually-hidden">
        <ul>
          {nodes.map((n) => (
            <li key={n.id}>
              {n.label}
              {n.detail ? ` (${n.detail})` : ""}
              {n.status ? `: ${lookup(t.status, n.status)}` : ""}
              {edges.filter((e) => e.to === n.id).length > 0 &&
                `, ${t.dag.after(edges.filter((e) => e.to === n.id).map((e) => byId.get(e.from)?.label ?? e.from).join(", "))}`}
            </li>
          ))}
        </ul>
      </figcaption>
      {layout.cyclic.length > 0 && (
        <p className="error">{t.dag.cycle(layout.cyclic.map((id) => byId.get(id)?.label ?? id).join(", "))}</p>
      )}
    </figure>
  );
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
