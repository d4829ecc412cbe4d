import { afterEach, describe, expect, it, vi } from "vitest";
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { App } from "./App";
import { Show } from "./ui/states";
import { ApiError } from "./api/problem";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root | null = null;
let host: HTMLElement | null = null;

async function render(node: React.ReactNode) {
  host = document.createElement("div");
  document.body.appendChild(host);
  root = createRoot(host);
  await act(async () => root!.render(node));
}

async function settle(check: () => boolean) {
  for (let i = 0; i < 50 && !check(); i++) await act(() => new Promise((r) => setTimeout(r, 10)));
  expect(check()).toBe(true);
}

afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
  vi.unstubAllGlobals();
  document.head.innerHTML = "";
});

const problem = (status: number, detail: string) =>
  new Response(JSON.stringify({ title: "x", status, detail }), { status, headers: { "Content-Type": "application/problem+json" } });

describe("App when signed out", () => {
  it.each([
    ["offers the development login where the route exists (422 on an empty login)", 422, true],
    ["hides it where the route is absent (404)", 404, false],
  ])("%s", async (_name, devStatus, shown) => {
    document.head.innerHTML = '<meta name="miyabi-api-base" content="http://api.test/base/v1">';
    window.history.replaceState(null, "", "/executions?status=failed");
    const seen: string[] = [];
    vi.stubGlobal("fetch", async (req: Request) => {
      const url = new URL(req.url);
      seen.push(`${req.method} ${url.pathname}`);
      if (url.pathname.endsWith("/auth/refresh")) return problem(401, "No session.");
      if (url.pathname.endsWith("/auth/dev-login")) return problem(devStatus, "nope");
      return problem(500, "unexpected");
    });
    await render(<App />);
    await settle(() => host!.textContent!.includes("Sign in with GitHub"));
    await settle(() => seen.includes("POST /base/v1/auth/dev-login"));
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(host!.querySelector("#dev-login") !== null).toBe(shown);
    // The API base came from the meta tag, and the page to come back to rides along.
    const github = host!.querySelector<HTMLAnchorElement>("a.button")!;
    expect(github.getAttribute("href")).toBe(`http://api.test/base/v1/auth/github?redirect=${encodeURIComponent("/executions?status=failed")}`);
    expect(window.location.pathname).toBe("/sign-in");
    expect(document.title).toBe("Sign in · Miyabi");
  });
});

describe("Show", () => {
  it("shows an error as the API's problem with its request id, not as data", async () => {
    const error = new ApiError(503, { title: "Service Unavailable", status: 503, detail: "The database is unreachable.", request_id: "req-7" });
    await render(<Show data={{ status: "error", error }} what="repositories">{() => <p>ROWS-FROM-NOWHERE</p>}</Show>);
    const alert = host!.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain("Service Unavailable");
    expect(alert.textContent).toContain("The database is unreachable.");
    expect(alert.textContent).toContain("req-7");
    expect(host!.textContent).not.toContain("ROWS-FROM-NOWHERE");
  });
});
