import { useEffect, useRef, useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { ApiError, toApiError } from "../../api/problem";
import { useSession } from "../../session/session";
import { ErrorView } from "../../ui/states";

type Line = Schema<"LogLineOut">;

/** appendNew adds lines past the last one held: two overlapping polls never duplicate a line. */
export function appendNew(held: Line[], next: Line[]): Line[] {
  const last = held.length ? held[held.length - 1]!.id : -Infinity;
  const fresh = next.filter((l) => l.id > last);
  return fresh.length ? [...held, ...fresh] : held;
}

/**
 * LogView follows an execution's logs by polling the cursor: each call asks for lines
 * after the last one seen. While the execution runs it keeps polling; once it has ended
 * it drains what is left and stops.
 */
export function LogView({ executionId, follow }: { executionId: string; follow: boolean }) {
  const { api } = useSession();
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(false);
  const after = useRef(0);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const followRef = useRef(follow);
  followRef.current = follow;

  useEffect(() => {
    let live = true;
    let timer = 0;
    after.current = 0;
    setLines([]);
    const poll = async () => {
      try {
        // Drain: keep reading while full pages come back.
        for (;;) {
          const page = await unwrap(
            api.GET("/agents/executions/{id}/logs", { params: { path: { id: executionId }, query: { after: after.current, limit: 500 } } }),
          );
          if (!live) return;
          const items = page.items ?? [];
          if (items.length) setLines((l) => appendNew(l, items));
          after.current = Math.max(after.current, page.next_after);
          setError(null);
          if (items.length < 500) break;
        }
        setLoaded(true);
      } catch (err) {
        if (live) setError(toApiError(err));
      }
      if (live && followRef.current) timer = window.setTimeout(poll, 1000);
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [api, executionId]);

  // When the execution ends, read once more to catch the last lines.
  const wasFollowing = useRef(follow);
  useEffect(() => {
    if (wasFollowing.current && !follow) {
      void unwrap(api.GET("/agents/executions/{id}/logs", { params: { path: { id: executionId }, query: { after: after.current, limit: 500 } } })).then(
        (page) => {
          const items = page.items ?? [];
          if (items.length) setLines((l) => appendNew(l, items));
          after.current = Math.max(after.current, page.next_after);
        },
        (err: unknown) => setError(toApiError(err)),
      );
    }
    wasFollowing.current = follow;
  }, [follow, api, executionId]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <section aria-labelledby="logs-h">
      <h2 id="logs-h">
        Logs {follow && <span className="muted small">(following live)</span>}
      </h2>
      {error && <ErrorView error={error} title="Logs could not be loaded" />}
      <div
        className="logs"
        ref={box}
        tabIndex={0}
        role="log"
        aria-label="Execution logs"
        aria-live="off"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? (
          <span className="muted">{loaded ? "No log lines yet." : "Loading logs…"}</span>
        ) : (
          lines.map((l) => (
            <div key={l.id} className={l.stream === "stderr" ? "lvl-error" : l.stream === "system" ? "lvl-warn" : undefined}>
              <span className="log-time">{l.logged_at.slice(11, 19)}</span> {l.message}
            </div>
          ))
        )}
      </div>
    </section>
  );
}
