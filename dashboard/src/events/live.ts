// The live-events WebSocket client: it asks for a ticket with the session's token,
// opens `${apiBase}/events?ticket=...` on the same origin, publishes what arrives on the
// bus, and reconnects (a fresh ticket each time) after any drop. Pages refetch on
// "connected", so nothing missed while disconnected stays missing.
import { publish, setConnected, type LiveEvent } from "./bus";

export interface TicketSource {
  /** A fresh single-use ticket; throws when none can be had (signed out, offline). */
  ticket: () => Promise<string>;
}

/** wsURL turns the API base (absolute or a path) into the events WebSocket URL. */
export function wsURL(apiBase: string, ticket: string, loc: Pick<Location, "protocol" | "host"> = window.location): string {
  const base = /^https?:\/\//.test(apiBase) ? apiBase : `${loc.protocol}//${loc.host}${apiBase}`;
  return `${base.replace(/^http/, "ws").replace(/\/+$/, "")}/events?ticket=${encodeURIComponent(ticket)}`;
}

/** parseEvent reads one server message; anything that is not an event is dropped. */
export function parseEvent(data: unknown): LiveEvent | null {
  if (typeof data !== "string") return null;
  try {
    const ev = JSON.parse(data) as Partial<LiveEvent>;
    if (typeof ev.type !== "string" || typeof ev.id !== "string") return null;
    return { type: ev.type, id: ev.id, organization_id: ev.organization_id ?? "", at: ev.at ?? "", data: ev.data ?? {} };
  } catch {
    return null;
  }
}

export class LiveClient {
  private socket: WebSocket | null = null;
  private stopped = false;
  private retry = 0;
  private timer = 0;
  private readonly following = new Map<string, number>();

  constructor(
    private readonly apiBase: string,
    private readonly source: TicketSource,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close(1000, "");
    this.socket = null;
    setConnected(false);
  }

  /** follow asks for an execution's log lines; counted, so two views can share one. */
  follow(executionId: string): () => void {
    this.following.set(executionId, (this.following.get(executionId) ?? 0) + 1);
    this.send({ action: "follow", execution_id: executionId });
    return () => {
      const n = (this.following.get(executionId) ?? 1) - 1;
      if (n > 0) {
        this.following.set(executionId, n);
        return;
      }
      this.following.delete(executionId);
      this.send({ action: "unfollow", execution_id: executionId });
    };
  }

  private send(msg: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(msg));
  }

  private async connect(): Promise<void> {
    let ticket: string;
    try {
      ticket = await this.source.ticket();
    } catch {
      this.again();
      return;
    }
    if (this.stopped) return;
    const ws = new WebSocket(wsURL(this.apiBase, ticket));
    this.socket = ws;
    ws.onmessage = (m) => {
      const ev = parseEvent(m.data);
      if (!ev) return;
      if (ev.type === "connected") {
        this.retry = 0;
        for (const id of this.following.keys()) this.send({ action: "follow", execution_id: id });
        setConnected(true);
      }
      publish(ev);
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      setConnected(false);
      this.again();
    };
  }

  private again(): void {
    if (this.stopped) return;
    const wait = Math.min(30_000, 1000 * 2 ** this.retry) * (0.75 + Math.random() / 2);
    this.retry = Math.min(this.retry + 1, 5);
    this.timer = window.setTimeout(() => void this.connect(), wait);
  }
}
