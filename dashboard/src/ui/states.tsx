import type { ReactNode } from "react";
import { isOutage } from "../api/connectivity";
import { lookup } from "../i18n/en";
import { useI18n, useT } from "../i18n/i18n";
import { ErrorView } from "./ErrorView";
import { NotHere } from "./NotHere";
import type { Loadable } from "./useApiData";

export { ErrorView } from "./ErrorView";
export { Page } from "./Page";
export { Time } from "./Time";

export function Loading({ what }: { what: string }) {
  const t = useT();
  return (
    <p className="loading" role="status" aria-live="polite">
      {t.common.loading(what)}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/**
 * Show renders a Loadable: loading, error or the data, and nothing made up in between.
 * Through an outage the last data stays (the shell shows one "reconnecting…" banner).
 */
export function Show<T>({
  data,
  what,
  children,
}: {
  data: Loadable<T> & { reload?: () => void };
  what: string;
  children: (value: T) => ReactNode;
}) {
  if (data.status === "loading") return <Loading what={what} />;
  if (data.status === "error") {
    if (data.data !== undefined && isOutage(data.error)) return <>{children(data.data)}</>;
    // A 404 is an object not in this organization: say so and offer the user's others.
    if (data.error.status === 404) return <NotHere what={what} />;
    return <ErrorView error={data.error} onRetry={data.reload} />;
  }
  return <>{children(data.data)}</>;
}

/** One colour per status everywhere (badges, chart, DAG): see styles.css and chart/buckets.ts. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  const t = useT();
  return <span className={`badge badge-${status}`}>{label ?? lookup(t.status, status)}</span>;
}

export function Pagination({ page, limit, total, onPage, label }: { page: number; limit: number; total: number; onPage: (page: number) => void; label?: string }) {
  const { t, fmt } = useI18n();
  const pages = Math.max(1, Math.ceil(total / limit));
  // Named after its list: two lists on a page must not give two landmarks the same name.
  return (
    <nav className="pagination" aria-label={label ? `${t.pagination.label}: ${label}` : t.pagination.label}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t.pagination.previous}
      </button>
      <span>{t.pagination.pageOf(page, pages, fmt.number(total))}</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t.pagination.next}
      </button>
    </nav>
  );
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const t = useT();
  return (
    <button
      type="button"
      onClick={(e) => {
        const btn = e.currentTarget;
        navigator.clipboard?.writeText(text).then(
          () => (btn.textContent = t.common.copied),
          () => (btn.textContent = t.common.copyFailed),
        );
      }}
    >
      {label ?? t.common.copy}
    </button>
  );
}
