import { useEffect, useRef, type ReactNode } from "react";

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
