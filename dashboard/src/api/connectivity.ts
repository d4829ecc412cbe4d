// Whether the API answers at all. One store for the whole dashboard, so an outage shows as
// one "reconnecting…" banner over the last data instead of an error box per panel.
import type { ApiError } from "./problem";

type Listener = (online: boolean) => void;
const listeners = new Set<Listener>();
let online = true;
let probe: number | undefined;
let probeURL = "";

/** isOutage: the request never got an answer from the application (network, timeout, gateway). */
export function isOutage(err: ApiError): boolean {
  return err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504;
}

export function isOnline(): boolean {
  return online;
}

export function onOnlineChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}

function set(value: boolean): void {
  if (value === online) return;
  online = value;
  for (const fn of listeners) fn(value);
  if (!value && probeURL && typeof window !== "undefined") {
    // While down, ask the health route every few seconds; the first answer brings everyone back.
    const tick = () => {
      fetch(probeURL, { signal: AbortSignal.timeout(5000) }).then(
        (r) => (r.status < 500 ? set(true) : (probe = window.setTimeout(tick, 3000))),
        () => (probe = window.setTimeout(tick, 3000)),
      );
    };
    probe = window.setTimeout(tick, 3000);
  }
  if (value && probe !== undefined) {
    window.clearTimeout(probe);
    probe = undefined;
  }
}

export function reportOutage(): void {
  set(false);
}
export function reportAnswer(status: number): void {
  set(!(status === 502 || status === 503 || status === 504));
}
export function setProbeURL(url: string): void {
  probeURL = url;
}
