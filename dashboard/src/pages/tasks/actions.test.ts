import { describe, expect, it } from "vitest";
import { allowedActions } from "./actions";

const all = () => true;
const none = () => false;
const only = (...p: string[]) => (x: string) => p.includes(x);
const task = (status: "pending" | "running" | "completed" | "failed" | "cancelled", agent_type: string | null = null, retry_count = 0, max_retries = 3) => ({
  status, agent_type, retry_count, max_retries,
});

describe("allowedActions", () => {
  it.each([
    ["a pending manual task starts or cancels", task("pending"), all, ["start", "cancel", "delete"]],
    ["a running manual task completes, fails or cancels", task("running"), all, ["complete", "fail", "cancel", "delete"]],
    ["an agent task is moved by its worker, not by hand", task("running", "codegen"), all, ["cancel", "delete"]],
    ["a failed task retries while retries are left", task("failed", "codegen", 1, 3), all, ["retry", "delete"]],
    ["a failed task with its retries spent does not", task("failed", "codegen", 3, 3), all, ["delete"]],
    ["a completed task only goes away", task("completed"), all, ["delete"]],
    ["a viewer gets nothing", task("pending"), none, []],
    ["a member may update but not delete", task("pending"), only("tasks.update"), ["start", "cancel"]],
  ] as const)("%s", (_n, t, can, want) => {
    expect(allowedActions(t, can)).toEqual(want);
  });
});
