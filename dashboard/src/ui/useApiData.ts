import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, toApiError } from "../api/problem";

export type Loadable<T> =
  | { status: "loading"; data?: undefined; error?: undefined }
  | { status: "error"; error: ApiError; data?: undefined }
  | { status: "ready"; data: T; error?: undefined };

/**
 * useApiData runs a load function whenever its key changes and keeps the last answer.
 * A failure is kept as the error it was; nothing stands in for missing data.
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
    if (lastKey.current !== keyString) setState({ status: "loading" });
    lastKey.current = keyString;
    loadRef.current().then(
      (data) => live && setState({ status: "ready", data }),
      (err: unknown) => live && setState({ status: "error", error: toApiError(err) }),
    );
    return () => {
      live = false;
    };
  }, [keyString, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
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
  return { exec, pending, error, clearError: () => setError(null) };
}
