import { useEffect, useRef } from "react";
import { subscribe } from "../events/bus";

/**
 * useRefreshOn calls `reload` once per burst of live events of the given types (debounced):
 * a workflow fanning out into ten updates costs one refetch, and the list keeps its rows
 * on screen meanwhile (useApiData keeps the last answer on a reload).
 */
export function useRefreshOn(types: readonly string[] | undefined, reload: () => void, debounceMs: number): void {
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const key = (types ?? []).join(",");
  useEffect(() => {
    if (!key) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = subscribe(key.split(","), () => {
      clearTimeout(timer);
      timer = setTimeout(() => reloadRef.current(), debounceMs);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [key, debounceMs]);
}
