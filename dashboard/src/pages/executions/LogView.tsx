import { useEffect, useRef, useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { ApiError, toApiError } from "../../api/problem";
import { useSession } from "../../session/session";
import { ErrorView } from "../../ui/states";
import { useConnected, useFollow, useLiveEvent } from "../../events/LiveEvents";

type Line = Schema<"LogLineOut">;

/** appendNew adds lines past the last one held: two overlapping polls never duplicate a line. */
export function appendNew(held: Line[], next: Line[]): Line[] {
  const last = held.length ? held[held.length - 1]!.id : -Infinity;
  const fresh = next.filter((l) => l.id > last);
  return fresh.length ? [...held, ...fresh] : held;
}

/**
 * LogView follows an execution's logs. Connected to live events it follows the
 * execution and appends the lines execution.log brings (reading by cursor only once
 * the follow is acknowledged, to fill what came before, and when an event was too big
 * to carry its lines); disconnected it polls the cursor every second, with one quiet
 * "reconnecting" note. Once the execution has ended it drains what is left and stops;
 * a 404 stops it too.
 */
export function LogView({ executionId, follow }: { executionId: string; follow: boolean }) {
  const { api } = useSession();
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(false);
  const after = useRef(0);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const connected = useConnected();
  const followRef = useRef(follow);
  followRef.current = follow;
  const pollRef = useRef(!connected);
  pollRef.current = !connected;
  const readRef = useRef<() => Promise<void>>(async () => {});

  useFollow(executionId, follow);
  useLiveEvent(
    ["following", "execution.log"],
    (ev) => {
      if (ev.type === "following" && ev.data.following !== true) return; // an unfollow's ack
      const lines = ev.data.lines as Line[] | undefined;
      if (ev.type === "execution.log" && Array.isArray(lines) && !ev.data.truncated) {
        setLines((l) => appendNew(l, lines));
        after.current = Math.max(after.current, Number(ev.data.cursor ?? 0));
        return;
      }
      void readRef.current(); // acknowledged follow, or a batch too big to travel
    },
    executionId,
  );

  useEffect(() => {
    let live = true;
    let timer = 0;
    after.current = 0;
    setLines([]);
    let stopped = false;
    const read = async () => {
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
        const e = toApiError(err);
        if (live) setError(e);
        if (e.status === 404) stopped = true;
      }
    };
    readRef.current = read;
    const poll = async () => {
      if (pollRef.current || !loadedOnce) await read();
      loadedOnce = true;
      if (live && !stopped && followRef.current) timer = window.setTimeout(poll, 1000);
    };
    let loadedOnce = false;
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
        Logs {follow && <span className="muted small">{connected ? "(following live)" : "(reconnecting…)"}</span>}
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
