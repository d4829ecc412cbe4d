import { describe, expect, it } from "vitest";
import { matchPath, withQuery } from "./router";
import { safeNext } from "../pages/SignIn";
import { appendNew } from "../pages/executions/LogView";

describe("matchPath", () => {
  it.each([
    ["/", "/", {}],
    ["/workflows/:id", "/workflows/abc", { id: "abc" }],
    ["/workflows/:id/edit", "/workflows/a%20b/edit", { id: "a b" }],
    ["/workflows/:id", "/workflows/new/extra", null],
    ["/workflows/new", "/workflows/abc", null],
    ["/executions", "/executions/", {}],
  ])("%s against %s", (pattern, path, want) => {
    expect(matchPath(pattern, path)).toEqual(want);
  });
});

describe("withQuery", () => {
  it("changes, adds and removes parameters and keeps the rest", () => {
    const q = new URLSearchParams("status=failed&page=3&agent_type=codegen");
    expect(withQuery("/executions", q, { page: undefined, status: "completed", repository_id: "r1" })).toBe(
      "/executions?status=completed&agent_type=codegen&repository_id=r1",
    );
    expect(withQuery("/tasks", new URLSearchParams("status=x"), { status: "" })).toBe("/tasks");
  });
});

describe("safeNext", () => {
  it.each([
    [null, "/"],
    ["/executions/1?x=2", "/executions/1?x=2"],
    ["//evil.example/", "/"],
    ["https://evil.example/", "/"],
    ["/sign-in?next=/x", "/"],
  ])("%s -> %s", (next, want) => {
    expect(safeNext(next)).toBe(want);
  });
});

describe("appendNew", () => {
  const line = (id: number) => ({ id, logged_at: "2026-01-01T00:00:00Z", message: `m${id}`, stream: "stdout" as const });
  it("appends only lines past the last one held (overlapping polls)", () => {
    expect(appendNew([line(1), line(2)], [line(2), line(3)]).map((l) => l.id)).toEqual([1, 2, 3]);
  });
  it("keeps the same array when nothing is new, so nothing re-renders", () => {
    const held = [line(1)];
    expect(appendNew(held, [line(1)])).toBe(held);
  });
});
