import { useEffect, useMemo, useRef, useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { ApiError, toApiError } from "../../api/problem";
import { useSession } from "../../session/session";
import { useI18n } from "../../i18n/i18n";
import { ErrorView } from "../../ui/states";
import { useConnected, useFollow, useLiveEvent } from "../../events/LiveEvents";

type Line = Schema<"LogLineOut">;
type Stream = "all" | "stdout" | "stderr" | "system";

/** appendNew adds lines past the last one held: two overlapping polls never duplicate a line. */
export function appendNew(held: Line[], next: Line[]): Line[] {
  const last = held.length ? held[held.length - 1]!.id : -Infinity;
  const fresh = next.filter((l) => l.id > last);
  return fresh.length ? [...held, ...fresh] : held;
}

/** isResultLine: the agent's last stdout line, a JSON object the worker reported as the result. */
export function isResultLine(l: Pick<Line, "stream" | "message">): boolean {
  if (l.stream !== "stdout" || !l.message.startsWith("{")) return false;
  try {
    const v = JSON.parse(l.message) as unknown;
    return typeof v === "object" && v !== null && ("summary" in v || "pr_number" in v || "quality_score" in v);
  } catch {
    return false;
  }
}

/** filterLines answers the numbered lines (1-based, as shown) that match a stream and a search. */
export function filterLines(lines: Line[], stream: Stream, search: string): { n: number; line: Line }[] {
  const needle = search.trim().toLowerCase();
  const out: { n: number; line: Line }[] = [];
  lines.forEach((line, i) => {
    if (stream !== "all" && line.stream !== stream) return;
    if (needle && !line.message.toLowerCase().includes(needle)) return;
    out.push({ n: i + 1, line });
  });
  return out;
}

/**
 * LogView follows an execution's logs. Connected to live events it follows the
 * execution and appends the lines execution.log brings (reading by cursor only once
 * the follow is acknowledged, to fill what came before, and when an event was too big
 * to carry its lines); disconnected it polls the cursor every second, with one quiet
 * "reconnecting" note. Once the execution has ended it drains what is left and stops;
 * a 404 stops it too. Lines are numbered, each with a permalink (#L12); they can be
 * searched, filtered by stream and downloaded.
 */
export function LogView({ executionId, follow }: { executionId: string; follow: boolean }) {
  const { api } = useSession();
  const { t, fmt } = useI18n();
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [search, setSearch] = useState("");
  const [stream, setStream] = useState<Stream>("all");
  const [target, setTarget] = useState(() => /^#L(\d+)$/.exec(window.location.hash)?.[1] ?? "");
  const after = useRef(0);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(!target);
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
          const page = await unwrap(api.GET("/agents/executions/{id}/logs", { params: { path: { id: executionId }, query: { after: after.current, limit: 500 } } }));
          if (!live) return;
          const items = page.items ?? [];
          if (items.length) setLines((l) => appendNew(l, items));
          after.current = Math.max(after.current, page.next_after);
          setError(null);
          if (items.length < 500) break;
        }
        setLoaded(true);
      } catch (err) {
        if (!live) return;
        const e = toApiError(err);
        setError(e);
        // Gone is gone: a 404 is not polled again.
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

  const shown = useMemo(() => filterLines(lines, stream, search), [lines, stream, search]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    if (target) {
      const line = el.querySelector<HTMLElement>(`#L${target}`);
      if (line) el.scrollTop = line.offsetTop - el.offsetTop - 40;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  }, [shown, target]);

  const download = () => {
    const text = lines.map((l) => `${l.logged_at}\t${l.stream}\t${l.message}`).join("\n") + "\n";
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `execution-${executionId}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <section aria-labelledby="logs-h">
      <div className="row">
        <h2 id="logs-h">
          {t.logs.title} {follow && <span className="muted small">{connected ? t.logs.following : t.logs.reconnecting}</span>}
        </h2>
        <span className="muted small">{t.logs.timesIn(fmt.zoneLabel)}</span>
      </div>
      <div className="filters log-tools">
        <div className="field">
          <label htmlFor="log-search">{t.logs.search}</label>
          <input id="log-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="log-stream">{t.logs.streams}</label>
          <select id="log-stream" value={stream} onChange={(e) => setStream(e.target.value as Stream)}>
            <option value="all">{t.logs.all}</option>
            <option value="stdout">stdout</option>
            <option value="stderr">stderr</option>
            <option value="system">system</option>
          </select>
        </div>
        <button type="button" onClick={download} disabled={lines.length === 0}>
          {t.logs.download}
        </button>
        {(search || stream !== "all") && <span className="muted small">{t.logs.matches(shown.length, lines.length)}</span>}
      </div>
      {error && <ErrorView error={error} title={t.logs.failed} />}
      <div
        className="logs"
        ref={box}
        tabIndex={0}
        role="log"
        aria-label={t.logs.label}
        aria-live="off"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? (
          <span className="muted">{loaded || error ? t.logs.none : t.logs.loading}</span>
        ) : (
          shown.map(({ n, line: l }) => (
            <div key={l.id} id={`L${n}`} className={`log-line stream-${l.stream}${String(n) === target ? " target" : ""}`}>
              <a
                className="ln"
                href={`#L${n}`}
                aria-label={t.logs.line(n)}
                onClick={() => {
                  setTarget(String(n));
                  stick.current = false;
                }}
              >
                {n}
              </a>
              <span className="log-time">{fmt.logTime(l.logged_at)}</span>
              {l.stream !== "stdout" && <span className="log-stream">{l.stream}</span>}
              <span className="log-msg">{isResultLine(l) ? <em className="muted">{t.logs.result}</em> : l.message}</span>
            </div>
          ))
        )}
      </div>
    </section>
  );
}
