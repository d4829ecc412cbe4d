import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError, problemFrom, toApiError } from "./problem";
import { reportAnswer, reportOutage, setProbeURL } from "./connectivity";

export type Session = components["schemas"]["SessionOut"];
export type Api = Client<paths>;

type Fetch = (input: Request) => Promise<Response>;

export interface ApiOptions {
  baseUrl: string;
  /** Called when the session is gone: a refresh failed after a 401. */
  onSignedOut: () => void;
  fetch?: Fetch;
  /** A request without an answer after this long is abandoned (the page offers a retry). */
  timeoutMs?: number;
}

/** TimeoutError is a request given up on: shown as an outage with a retry, never as a hang. */
export class TimeoutError extends Error {
  constructor() {
    super("timeout");
    this.name = "TimeoutError";
  }
}

/** The access token lives here, in memory only: never in storage, never in a URL. */
export class TokenHolder {
  private token: string | null = null;
  get(): string | null {
    return this.token;
  }
  set(token: string | null): void {
    this.token = token;
  }
}

// These answer 401 for their own reasons; a refresh cannot help them.
const noRetry = ["/auth/refresh", "/auth/dev-login", "/auth/logout"];

/**
 * createApi builds the typed client. Every request carries the in-memory access token; a
 * 401 triggers one refresh through the HttpOnly cookie (shared by concurrent requests) and
 * one retry; if that fails too, the caller is signed out.
 */
export function createApi(opts: ApiOptions) {
  const tokens = new TokenHolder();
  const rawFetch: Fetch = opts.fetch ?? ((req) => globalThis.fetch(req));
  const timeoutMs = opts.timeoutMs ?? 20_000;
  setProbeURL(`${opts.baseUrl}/health`);
  const baseFetch: Fetch = async (req) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
    });
    try {
      const res = await Promise.race([rawFetch(req), timedOut]);
      reportAnswer(res.status);
      return res;
    } catch (err) {
      reportOutage();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
  let refreshing: Promise<Session | null> | null = null;

  const refresh = (): Promise<Session | null> => {
    refreshing ??= (async () => {
      try {
        const res = await baseFetch(
          new Request(`${opts.baseUrl}/auth/refresh`, { method: "POST", credentials: "include" }),
        );
        if (!res.ok) return null;
        const session = (await res.json()) as Session;
        tokens.set(session.access_token);
        return session;
      } catch {
        return null;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };

  const authedFetch: Fetch = async (req) => {
    const retry = req.clone();
    const token = tokens.get();
    if (token) req.headers.set("Authorization", `Bearer ${token}`);
    const res = await baseFetch(req);
    const path = new URL(req.url, "http://x").pathname;
    if (res.status !== 401 || noRetry.some((p) => path.endsWith(p))) return res;
    const session = await refresh();
    if (!session) {
      tokens.set(null);
      opts.onSignedOut();
      return res;
    }
    retry.headers.set("Authorization", `Bearer ${session.access_token}`);
    const again = await baseFetch(retry);
    if (again.status === 401) {
      tokens.set(null);
      opts.onSignedOut();
    }
    return again;
  };

  const client = createClient<paths>({ baseUrl: opts.baseUrl, fetch: authedFetch, credentials: "include" });
  return { client, tokens, refresh };
}

export type ApiHandle = ReturnType<typeof createApi>;

/**
 * unwrap turns an openapi-fetch result into its data or a thrown ApiError, so pages deal
 * with one kind of failure.
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw toApiError(err);
  }
  const { data, error, response } = result;
  if (!response.ok) throw new ApiError(response.status, problemFrom(response.status, error, response.statusText));
  return data as T;
}
