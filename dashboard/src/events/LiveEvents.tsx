import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { isConnected, onConnectionChange, subscribe, type LiveEvent } from "./bus";
import { LiveClient } from "./live";

const Ctx = createContext<LiveClient | null>(null);

/**
 * LiveEvents keeps one events connection per signed-in organization (a switch of
 * organization reconnects with a ticket for the new one) and shares it with the pages.
 */
export function LiveEvents({ children }: { children: ReactNode }) {
  const { api, apiBase, me } = useSession();
  const org = me?.organization.id;
  const [client, setClient] = useState<LiveClient | null>(null);
  useEffect(() => {
    if (!org) return;
    const c = new LiveClient(apiBase, {
      ticket: async () => (await unwrap(api.POST("/events/ticket"))).ticket,
    });
    c.start();
    setClient(c);
    return () => {
      c.stop();
      setClient(null);
    };
  }, [api, apiBase, org]);
  return <Ctx.Provider value={client}>{children}</Ctx.Provider>;
}

/** useConnected is whether live events arrive right now. */
export function useConnected(): boolean {
  const [connected, setConnected] = useState(isConnected());
  useEffect(() => onConnectionChange(setConnected), []);
  return connected;
}

/** useLiveEvent calls fn for each event of the types (and, when given, about id). */
export function useLiveEvent(types: readonly string[], fn: (ev: LiveEvent) => void, id?: string): void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const key = types.join(",");
  useEffect(
    () =>
      subscribe(key.split(","), (ev) => {
        if (id === undefined || ev.id === id) fnRef.current(ev);
      }),
    [key, id],
  );
}

/** useFollow follows an execution's logs while active and the connection is up. */
export function useFollow(executionId: string, active: boolean): void {
  const client = useContext(Ctx);
  useEffect(() => {
    if (!client || !active) return;
    return client.follow(executionId);
  }, [client, executionId, active]);
}

/**
 * useLiveReload reloads a page's data when events of the types arrive (and on every
 * reconnect, since events of the gap are lost), at most once per `every` ms: a burst of
 * changes costs one refetch, not one per event.
 */
export function useLiveReload(types: readonly string[], reload: () => void, every = 500): void {
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const timer = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
    },
    [],
  );
  useLiveEvent([...types, "connected"], () => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      reloadRef.current();
    }, every);
  });
}
