import type { ReactNode } from "react";
import { Empty, Pagination, Show } from "../ui/states";
import type { Loadable } from "../ui/useApiData";

export interface Column<T> {
  /** The header, also the label of the cell on a phone (where rows become cards). */
  header: string;
  cell: (row: T) => ReactNode;
  /** "low": hidden on a phone. Actions and the row's name are always kept. */
  priority?: "high" | "low";
  /** When false, the column is not shown at all (a permission the caller lacks). */
  show?: boolean;
}

interface PageLike<T> {
  items: T[] | null;
  page: number;
  limit: number;
  total: number;
}

interface Common<T> {
  /** Names the table for assistive technology (and its pagination landmark). */
  caption: string;
  rowKey: (row: T) => string;
  /** What an empty list says (and invites to do). */
  empty: ReactNode;
  onPage?: (page: number) => void;
}

type Body<T> = { columns: Column<T>[]; item?: undefined } | { item: (row: T) => ReactNode; columns?: undefined };

/** The rows, the empty state and the pagination of one list. */
export function DataRows<T>({ caption, rowKey, empty, onPage, rows, page, ...body }: Common<T> & Body<T> & { rows: T[]; page?: Omit<PageLike<T>, "items"> }) {
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  return (
    <>
      {body.columns ? (
        <div className="table-wrap" tabIndex={0}>
          <table className="data-table">
            <caption className="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                {body.columns
                  .filter((c) => c.show !== false)
                  .map((c) => (
                    <th key={c.header} scope="col" className={c.priority === "low" ? "col-low" : undefined}>
                      {c.header}
                    </th>
                  ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={rowKey(r)}>
                  {body.columns
                    .filter((c) => c.show !== false)
                    .map((c) => (
                      <td key={c.header} data-label={c.header} className={c.priority === "low" ? "col-low" : undefined}>
                        {/* one box per cell: on a phone the label sits beside it */}
                        <div className="cell">{c.cell(r)}</div>
                      </td>
                    ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <ul className="plain-list" aria-label={caption}>
          {rows.map((r) => (
            <li key={rowKey(r)} className="panel">
              {body.item(r)}
            </li>
          ))}
        </ul>
      )}
      {page && onPage && (
        <PaginationFor caption={caption} page={page.page} limit={page.limit} total={page.total} onPage={onPage} />
      )}
    </>
  );
}

function PaginationFor({ caption, ...p }: { caption: string; page: number; limit: number; total: number; onPage: (n: number) => void }) {
  return (
    <div className="pagination-wrap" data-list={caption}>
      <Pagination {...p} label={caption} />
    </div>
  );
}

/**
 * DataTable is every list page's table: loading and errors (the last rows kept through an
 * outage), the empty state, the columns (cards on a phone, low-priority columns hidden,
 * actions kept) and the pagination.
 */
export function DataTable<T>({ data, what, ...rest }: Common<T> & Body<T> & { data: Loadable<PageLike<T>> & { reload?: () => void }; what: string }) {
  return (
    <Show<PageLike<T>> data={data} what={what}>
      {(p) => <DataRows {...(rest as Common<T> & Body<T>)} rows={p.items ?? []} page={p} />}
    </Show>
  );
}
