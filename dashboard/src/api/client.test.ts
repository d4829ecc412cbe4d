import { describe, expect, it, vi } from "vitest";
import { apiBaseFrom } from "./base";
import { createApi, unwrap } from "./client";
import { ApiError } from "./problem";
import { isOnline, onOnlineChange } from "./connectivity";
import { humanize } from "../ui/ErrorView";

const base = "http://api.test/api/v1";

function doc(html: string): Document {
  const d = document.implementation.createHTMLDocument("t");
  d.head.innerHTML = html;
  return d;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });

const session = (token: string) => ({
  access_token: token,
  token_type: "Bearer",
  expires_in: 900,
  user: { id: "u1", github_id: 1, login: "alice", name: null, email: null, avatar_url: null },
  organization: {
    id: "o1", name: "alice", slug: "alice", description: "", is_personal: true, plan: "free",
    max_members: 5, max_repositories: 5, role: "owner", created_at: "", updated_at: "",
  },
});

const unauthorized = () => json(401, { title: "Unauthorized", status: 401, detail: "The access token has expired." });

describe("apiBaseFrom", () => {
  it.each([
    ["the meta tag's content", '<meta name="miyabi-api-base" content="https://api.example.com/api/v1/">', "https://api.example.com/api/v1"],
    ["a relative base", '<meta name="miyabi-api-base" content="/custom/api">', "/custom/api"],
    ["/api/v1 when the tag is missing", "", "/api/v1"],
    ["/api/v1 when the tag is empty", '<meta name="miyabi-api-base" content="  ">', "/api/v1"],
  ])("answers %s", (_name, html, want) => {
    expect(apiBaseFrom(doc(html))).toBe(want);
  });
});

describe("createApi", () => {
  it("sends the in-memory token and nothing when there is none", async () => {
    const seen: (string | null)[] = [];
    const fetch = vi.fn(async (req: Request) => {
      seen.push(req.headers.get("Authorization"));
      return json(200, { status: "ok", version: "x", database: { status: "up", latency_ms: 1, pool: { total: 1, idle: 1, acquired: 0, max: 1 } } });
    });
    const api = createApi({ baseUrl: base, fetch, onSignedOut: () => {} });
    await unwrap(api.client.GET("/health"));
    api.tokens.set("tok-1");
    await unwrap(api.client.GET("/health"));
    expect(seen).toEqual([null, "Bearer tok-1"]);
  });

  it("on a 401 refreshes once through the cookie and retries with the new token", async () => {
    const calls: string[] = [];
    const fetch = vi.fn(async (req: Request) => {
      const path = new URL(req.url).pathname;
      calls.push(`${req.method} ${path} ${req.headers.get("Authorization") ?? "-"} ${req.credentials}`);
      if (path.endsWith("/auth/refresh")) return json(200, session("fresh"));
      if (req.headers.get("Authorization") === "Bearer fresh") return json(200, { ...session("fresh") });
      return unauthorized();
    });
    const onSignedOut = vi.fn();
    const api = createApi({ baseUrl: base, fetch, onSignedOut });
    api.tokens.set("stale");
    const body = await unwrap(api.client.POST("/auth/switch-organization", { body: { organization_id: "o2" } }));
    expect(body.access_token).toBe("fresh");
    expect(calls).toEqual([
      "POST /api/v1/auth/switch-organization Bearer stale include",
      "POST /api/v1/auth/refresh - include",
      "POST /api/v1/auth/switch-organization Bearer fresh include",
    ]);
    expect(onSignedOut).not.toHaveBeenCalled();
    expect(api.tokens.get()).toBe("fresh");
  });

  it("retries the request body unchanged after the refresh", async () => {
    const bodies: string[] = [];
    const fetch = vi.fn(async (req: Request) => {
      if (req.url.endsWith("/auth/refresh")) return json(200, session("fresh"));
      bodies.push(await req.text());
      return req.headers.get("Authorization") === "Bearer fresh" ? json(200, session("fresh")) : unauthorized();
    });
    const api = createApi({ baseUrl: base, fetch, onSignedOut: () => {} });
    await unwrap(api.client.POST("/auth/switch-organization", { body: { organization_id: "o2" } }));
    expect(bodies).toEqual(['{"organization_id":"o2"}', '{"organization_id":"o2"}']);
  });

  it("signs out when the refresh fails, without retrying", async () => {
    const fetch = vi.fn(async (req: Request) => (req.url.endsWith("/auth/refresh") ? unauthorized() : unauthorized()));
    const onSignedOut = vi.fn();
    const api = createApi({ baseUrl: base, fetch, onSignedOut });
    api.tokens.set("stale");
    await expect(unwrap(api.client.GET("/auth/me"))).rejects.toMatchObject({ status: 401 });
    expect(fetch).toHaveBeenCalledTimes(2); // the call, the refresh; no retry
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(api.tokens.get()).toBeNull();
  });

  it("signs out when the retry is refused too, and does not loop", async () => {
    const fetch = vi.fn(async (req: Request) => (req.url.endsWith("/auth/refresh") ? json(200, session("fresh")) : unauthorized()));
    const onSignedOut = vi.fn();
    const api = createApi({ baseUrl: base, fetch, onSignedOut });
    await expect(unwrap(api.client.GET("/auth/me"))).rejects.toBeInstanceOf(ApiError);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  it("shares one refresh between concurrent 401s", async () => {
    let refreshes = 0;
    const fetch = vi.fn(async (req: Request) => {
      if (req.url.endsWith("/auth/refresh")) {
        refreshes++;
        await new Promise((r) => setTimeout(r, 10));
        return json(200, session("fresh"));
      }
      return req.headers.get("Authorization") === "Bearer fresh" ? json(200, session("fresh")) : unauthorized();
    });
    const api = createApi({ baseUrl: base, fetch, onSignedOut: () => {} });
    await Promise.all([unwrap(api.client.GET("/auth/me")), unwrap(api.client.GET("/auth/me")), unwrap(api.client.GET("/auth/me"))]);
    expect(refreshes).toBe(1);
  });

  it("does not refresh for a failed dev login", async () => {
    const fetch = vi.fn(async () => unauthorized());
    const onSignedOut = vi.fn();
    const api = createApi({ baseUrl: base, fetch, onSignedOut });
    await expect(unwrap(api.client.POST("/auth/dev-login", { body: { login: "x" } }))).rejects.toMatchObject({ status: 401 });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(onSignedOut).not.toHaveBeenCalled();
  });
});

describe("unwrap", () => {
  it("keeps the problem, its field errors and request id", async () => {
    const fetch = async () =>
      json(422, {
        title: "Unprocessable Entity", status: 422, detail: "validation failed", request_id: "req-42",
        errors: [{ location: "body.definition.edges[0].to", message: "unknown node" }],
      });
    const api = createApi({ baseUrl: base, fetch, onSignedOut: () => {} });
    const err = await unwrap(api.client.POST("/auth/dev-login", { body: { login: "x" } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(422);
    expect(e.requestId).toBe("req-42");
    expect(e.fieldErrors()).toEqual([{ field: "definition.edges[0].to", message: "unknown node" }]);
  });

  it("turns a network failure into an error with status 0", async () => {
    const fetch = async (): Promise<Response> => {
      throw new TypeError("Failed to fetch");
    };
    const api = createApi({ baseUrl: base, fetch, onSignedOut: () => {} });
    await expect(unwrap(api.client.GET("/health"))).rejects.toMatchObject({ status: 0 });
  });

  it("gives up on a hung request after the timeout, as a retryable outage, and comes back online on the next answer", async () => {
    let hang = false;
    const fetch = (): Promise<Response> => (hang ? new Promise<Response>(() => {}) : Promise.resolve(json(200, { status: "ok" })));
    const api = createApi({ baseUrl: base, fetch, onSignedOut: () => {}, timeoutMs: 30 });
    await unwrap(api.client.GET("/health")); // online, whatever an earlier test left
    const changes: boolean[] = [];
    const off = onOnlineChange((v) => changes.push(v));
    hang = true;
    const err = (await unwrap(api.client.GET("/health")).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.problem.title).toBe("timeout");
    expect(isOnline()).toBe(false);
    hang = false;
    await unwrap(api.client.GET("/health"));
    expect(isOnline()).toBe(true);
    expect(changes).toEqual([false, true]);
    off();
  });
});

describe("errors for people", () => {
  it("drops field paths from the detail and names fields by their label", () => {
    const err = new ApiError(422, {
      title: "Unprocessable Entity",
      status: 422,
      detail: "body.full_name: GitHub has no repository miyabi-demo/nope that you can see",
      errors: [{ location: "body.full_name", message: "GitHub has no repository miyabi-demo/nope that you can see" }],
    });
    const h = humanize(err, { full_name: "GitHub repository" });
    expect(h.detail).toBe("GitHub has no repository miyabi-demo/nope that you can see");
    expect(h.detail).not.toContain("body.");
    // The detail already says it: the field is not repeated.
    expect(h.fields).toEqual([]);
    const two = humanize(new ApiError(422, { title: "x", detail: "2 errors", errors: [{ location: "body.issue_number", message: "must be at least 1" }] }), { issue_number: "Issue number" });
    expect(two.fields).toEqual([{ label: "Issue number", message: "must be at least 1" }]);
  });
});
