import type { Schema } from "../../api/types";

type Task = Schema<"TaskOut">;
export type TaskAction = "start" | "complete" | "fail" | "cancel" | "retry" | "delete";

/**
 * allowedActions answers what may be done to a task now, by its state (the state machine
 * of the API) and the caller's permissions. Agent tasks move by their worker: a person
 * only cancels or retries them.
 */
export function allowedActions(t: Pick<Task, "status" | "agent_type" | "retry_count" | "max_retries">, can: (p: string) => boolean): TaskAction[] {
  const out: TaskAction[] = [];
  const manual = !t.agent_type;
  if (can("tasks.update")) {
    if (manual && t.status === "pending") out.push("start");
    if (manual && t.status === "running") out.push("complete", "fail");
    if (t.status === "pending" || t.status === "running") out.push("cancel");
    if (t.status === "failed" && t.retry_count < t.max_retries) out.push("retry");
  }
  if (can("tasks.delete")) out.push("delete");
  return out;
}
