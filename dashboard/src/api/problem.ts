import type { components } from "./schema";

export type Problem = components["schemas"]["Problem"];

/**
 * ApiError is every failure the dashboard shows: the API's problem+json as it came, or a
 * network failure (status 0). Pages render it as an error, never as substitute data.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  get requestId(): string | undefined {
    return this.problem.request_id;
  }

  /** Field messages from a 422, keyed by the field name (`body.definition.nodes[0].agent_type` -> that path without `body.`). */
  fieldErrors(): { field: string; message: string }[] {
    return (this.problem.errors ?? []).map((e) => ({
      field: (e.location ?? "").replace(/^body\.?/, ""),
      message: e.message ?? "is invalid",
    }));
  }
}

/** toApiError turns whatever a call threw or answered into an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof Error && err.name === "TimeoutError") return new ApiError(0, { title: "timeout", detail: "" });
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(0, { title: "Network error", detail: `The API could not be reached: ${message}` });
}

/** problemFrom reads a failed response body, tolerating bodies that are not problem+json. */
export function problemFrom(status: number, body: unknown, statusText = ""): Problem {
  if (body && typeof body === "object" && ("title" in body || "detail" in body)) return body as Problem;
  return { status, title: statusText || `HTTP ${status}`, detail: typeof body === "string" && body ? body : undefined };
}
