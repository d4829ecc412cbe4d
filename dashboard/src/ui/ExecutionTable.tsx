import type { Schema } from "../api/types";
import { Link } from "../router/router";
import { StatusBadge, Time } from "./states";

type Execution = Schema<"ExecutionOut">;

/** A table of executions, each linking to its detail page. */
export function ExecutionTable({ items, caption }: { items: Execution[]; caption: string }) {
  return (
    <div className="table-wrap" tabIndex={0}>
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Status</th>
            <th scope="col">Repository</th>
            <th scope="col">Issue</th>
            <th scope="col">Created</th>
            <th scope="col">PR</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td>
                <Link to={`/executions/${e.id}`}>
                  {e.agent_type} <span className="muted small">{e.id.slice(0, 8)}</span>
                </Link>
              </td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              <td>{e.repository_full_name ?? <span className="muted">—</span>}</td>
              <td>{e.issue_number != null ? `#${e.issue_number}` : <span className="muted">—</span>}</td>
              <td>
                <Time value={e.created_at} />
              </td>
              <td>{e.pr_number != null ? `#${e.pr_number}` : <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
