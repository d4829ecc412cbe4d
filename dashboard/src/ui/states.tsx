import { useEffect, useRef, type ReactNode } from "react";
import type { ApiError } from "../api/problem";
import type { Loadable } from "./useApiData";

/** ErrorView shows a failure as what it is: the problem's title, detail, fields and request id. */
export function ErrorView({ error, onRetry, title }: { error: ApiError; onRetry?: () => void; title?: string }) {
  const p = error.problem;
  // Field errors the detail already spells out are not repeated.
  const fields = error.fieldErrors().filter((f) => !(p.detail ?? "").includes(f.message));
  return (
    <div className="error" role="alert">
      <strong>{title ?? p.title ?? "Something went wrong"}</strong>
      {error.status > 0 && <span className="muted"> (HTTP {error.status})</span>}
      {p.detail && <p>{p.detail}</p>}
      {fields.length > 0 && (
        <ul>
          {fields.map((f, i) => (
            <li key={i}>
              {f.field && <code>{f.field}</code>} {f.message}
            </li>
          ))}
        </ul>
      )}
      {error.requestId && (
        <p className="muted small">
          Request id: <code>{error.requestId}</code>
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** Show renders a Loadable: loading, error or the data, and nothing made up in between. */
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
  if (data.status === "error") return <ErrorView error={data.error} onRetry={data.reload} />;
  return <>{children(data.data)}</>;
}

// The first page of a visit leaves the focus alone (the skip link comes first); pages
// reached afterwards take it.
let firstPageShown = false;

/** Page sets the document title and the page heading. */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Miyabi`;
  }, [title]);
  // A new page takes the focus from the link or switcher that led to it, so keyboard and
  // screen-reader users start on the page; it never takes it from a form field.
  useEffect(() => {
    const a = document.activeElement;
    const cameByNavigation = !a || a === document.body || a.id === "main" || a.closest("nav, .topbar, a") !== null;
    if (cameByNavigation && firstPageShown) heading.current?.focus({ preventScroll: true });
    firstPageShown = true;
  }, []);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function Pagination({
  page,
  limit,
  total,
  onPage,
}: {
  page: number;
  limit: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <nav className="pagination" aria-label="Pagination">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages} · {total} in all
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  const d = new Date(value);
  return (
    <time dateTime={value} title={d.toISOString()}>
      {d.toLocaleString()}
    </time>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  return (
    <button
      type="button"
      onClick={(e) => {
        const btn = e.currentTarget;
        navigator.clipboard?.writeText(text).then(
          () => (btn.textContent = "Copied"),
          () => (btn.textContent = "Copy failed: select the text"),
        );
      }}
    >
      {label}
    </button>
  );
}
