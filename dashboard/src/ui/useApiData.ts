import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, toApiError } from "../api/problem";
import { isOutage, onOnlineChange } from "../api/connectivity";

export type Loadable<T> =
  | { status: "loading"; data?: undefined; error?: undefined }
  /** An error; `data` is the last answer for the same key, kept on screen through an outage. */
  | { status: "error"; error: ApiError; data?: T }
  | { status: "ready"; data: T; error?: undefined };

/**
 * useApiData runs a load function whenever its key changes and keeps the last answer.
 * A failure is kept as the error it was; nothing stands in for missing data. Through an
 * outage the last answer for the same key stays, and it reloads when the API answers again.
 */
export function useApiData<T>(load: () => Promise<T>, key: unknown[]): Loadable<T> & { reload: () => void } {
  const [state, setState] = useState<Loadable<T>>({ status: "loading" });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyString = JSON.stringify(key);
  const lastKey = useRef<string | null>(null);

  useEffect(() => {
    let live = true;
    // A reload of the same thing keeps showing the last answer; another thing starts afresh.
    const same = lastKey.current === keyString;
    if (!same) setState({ status: "loading" });
    lastKey.current = keyString;
    loadRef.current().then(
      (data) => live && setState({ status: "ready", data }),
      (err: unknown) =>
        live &&
        setState((prev) => {
          const error = toApiError(err);
          const data = same && prev.status !== "loading" && isOutage(error) ? prev.data : undefined;
          return { status: "error", error, data };
        }),
    );
    return () => {
      live = false;
    };
  }, [keyString, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  // When the API answers again after an outage, what failed loads again.
  const failed = state.status === "error";
  useEffect(() => {
    if (!failed) return;
    return onOnlineChange((up) => up && reload());
  }, [failed, reload]);
  return { ...state, reload };
}

/** useAction wraps a mutation: pending flag, the last error, and a runner. */
export function useAction<A extends unknown[], R>(run: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const exec = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true);
      setError(null);
      try {
        return await run(...args);
      } catch (err) {
        setError(toApiError(err));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [run],
  );
  const clearError = useCallback(() => setError(null), []);
  return { exec, pending, error, clearError };
}
