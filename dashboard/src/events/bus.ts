// The dashboard's live-event bus: the WebSocket client publishes what the server sends,
// pages subscribe to the event types that change what they show. Kept tiny on purpose.
export interface LiveEvent {
  type: string;
  organization_id: string;
  id: string;
  at: string;
  data: Record<string, unknown>;
}

type Listener = (ev: LiveEvent) => void;
const listeners = new Set<{ types: ReadonlySet<string>; fn: Listener }>();
const connectionListeners = new Set<(connected: boolean) => void>();
let connected = false;

export function publish(ev: LiveEvent): void {
  for (const l of listeners) if (l.types.has(ev.type)) l.fn(ev);
}

export function subscribe(types: readonly string[], fn: Listener): () => void {
  const l = { types: new Set(types), fn };
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

export function setConnected(value: boolean): void {
  if (value === connected) return;
  connected = value;
  for (const fn of connectionListeners) fn(value);
}

export function isConnected(): boolean {
  return connected;
}

export function onConnectionChange(fn: (connected: boolean) => void): () => void {
  connectionListeners.add(fn);
  return () => {
    connectionListeners.delete(fn);
  };
}
