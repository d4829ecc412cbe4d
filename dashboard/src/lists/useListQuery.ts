import { useEffect, useRef, useState } from "react";
import { unwrap } from "../api/client";
import type { paths } from "../api/schema";
import { isConnected, onConnectionChange } from "../events/bus";
import { useRefreshOn } from "./useRefreshOn";
import { navigate, useLocation, withQuery } from "../router/router";
import { useSession } from "../session/session";
import { useApiData } from "../ui/useApiData";

interface PageShape {
  items: unknown[] | null;
  page: number;
  limit: number;
  total: number;
}
type JsonOf<P extends keyof paths> = paths[P] extends { get: { responses: { 200: { content: { "application/json": infer J } } } } } ? J : never;
/** The API's paginated list routes: GET answers { items, page, limit, total }. */
export type ListPath = { [P in keyof paths]: JsonOf<P> extends PageShape ? P : never }[keyof paths];
export type ListOf<P extends ListPath> = JsonOf<P>;

export interface ListOptions {
  /** Path parameters ({id} and the like) and fixed query parameters not kept in the address. */
  params?: { path?: Record<string, string>; query?: Record<string, string | number | boolean | undefined> };
  limit?: number;
  /** Live event types that change this list: it refetches (debounced, data kept) when one arrives. */
  refreshOn?: readonly string[];
  /** Without a live connection, look again this often (ms); nothing when omitted. */
  pollMs?: number;
  /** Prefix of this list's keys in the address, when a page shows two lists. */
  prefix?: string;
}

/** debounceMs: a burst of live events (a workflow fanning out) costs one refetch. */
export const debounceMs = 300;

/**
 * useListQuery loads one page of a list route with the page and the filters kept in the
 * address (so a filtered list is a link and Back works), and refetches when a live event of
 * one of `refreshOn`'s types arrives, keeping the current rows on screen meanwhile.
 */
export function useListQuery<P extends ListPath>(path: P, filterNames: readonly string[], opts: ListOptions = {}) {
  const { api } = useSession();
  const { path: here, query } = useLocation();
  const prefix = opts.prefix ?? "";
  const limit = opts.limit ?? 20;
  const page = Math.max(1, Number(query.get(`${prefix}page`) ?? "1") || 1);
  const filters: Record<string, string> = {};
  for (const f of filterNames) filters[f] = query.get(prefix + f) ?? "";
  const fixed = opts.params ?? {};

  const get = api.GET as unknown as (p: string, init: object) => Promise<{ data?: ListOf<P>; error?: unknown; response: Response }>;
  const list = useApiData(
    () => {
      const q: Record<string, unknown> = { ...fixed.query, page, limit };
      for (const [k, v] of Object.entries(filters)) if (v) q[k] = v;
      return unwrap(get(path, { params: { path: fixed.path, query: q } }));
    },
    [path, page, limit, filters, fixed],
  );

  const reloadRef = useRef(list.reload);
  reloadRef.current = list.reload;
  const refreshKey = (opts.refreshOn ?? []).join(",");
  // A reconnect ("connected") may follow missed events: a live list looks again then too.
  useRefreshOn(refreshKey ? [...refreshKey.split(","), "connected"] : undefined, list.reload, debounceMs);

  // Without the live connection, lists fall back to looking again now and then.
  const [live, setLive] = useState(isConnected());
  useEffect(() => onConnectionChange(setLive), []);
  useEffect(() => {
    if (!opts.pollMs || (live && refreshKey)) return;
    const t = window.setInterval(() => reloadRef.current(), opts.pollMs);
    return () => window.clearInterval(t);
  }, [opts.pollMs, live, refreshKey]);

  const setFilters = (changes: Record<string, string | undefined>) => {
    const c: Record<string, string | undefined> = { [`${prefix}page`]: undefined };
    for (const [k, v] of Object.entries(changes)) c[prefix + k] = v;
    navigate(withQuery(here, query, c), { replace: true });
  };
  const setPage = (n: number) => navigate(withQuery(here, query, { [`${prefix}page`]: n > 1 ? String(n) : undefined }));
  const filtered = Object.values(filters).some(Boolean);
  return { list, page, limit, filters, filtered, setFilters, setPage, reload: list.reload };
}
