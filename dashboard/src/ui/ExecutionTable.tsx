import type { Schema } from "../api/types";
import { Link } from "../router/router";
import { useT } from "../i18n/i18n";
import { DataRows, type Column } from "../lists/DataTable";
import { StatusBadge, Time } from "./states";
import { executionTitle, githubIssueURL, githubPullURL } from "../pages/executions/links";
import type { ReactNode } from "react";

type Execution = Schema<"ExecutionOut">;

export function executionColumns(t: ReturnType<typeof useT>): Column<Execution>[] {
  const dash = <span className="muted">—</span>;
  return [
    {
      header: t.executions.execution,
      cell: (e) => (
        <Link to={`/executions/${e.id}`}>
          {executionTitle(e)} <span className="muted small">{e.id.slice(0, 8)}</span>
        </Link>
      ),
    },
    { header: t.common.status, cell: (e) => <StatusBadge status={e.status} label={e.status === "pending" ? t.status.queued : undefined} /> },
    { header: t.common.repository, priority: "low", cell: (e) => e.repository_full_name ?? dash },
    { header: t.common.issue, priority: "low", cell: (e) => (e.issue_number != null ? ext(githubIssueURL(e), `#${e.issue_number}`) : dash) },
    { header: t.common.created, cell: (e) => <Time value={e.created_at} relative /> },
    { header: t.executions.pr, priority: "low", cell: (e) => (e.pr_number != null ? ext(githubPullURL(e), `#${e.pr_number}`) : dash) },
  ];
}

function ext(href: string | null, text: string): ReactNode {
  return href ? (
    <a href={href} target="_blank" rel="noreferrer">
      {text}
    </a>
  ) : (
    text
  );
}

/** A table of executions, each linking to its run page. */
export function ExecutionTable({ items, caption, empty }: { items: Execution[]; caption: string; empty?: string }) {
  const t = useT();
  return <DataRows caption={caption} rows={items} rowKey={(e) => e.id} columns={executionColumns(t)} empty={empty ?? t.executions.empty} />;
}
