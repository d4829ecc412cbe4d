import { describe, expect, it } from "vitest";
import { runCommand } from "./NewWorker";

describe("the command that starts a new worker", () => {
  it("carries the API URL, the token, the concurrency and the agent types", () => {
    expect(runCommand("https://miyabi.example/api/v1", { token: "mw_abc", max_concurrency: 2, agent_types: ["codegen", "review"] })).toBe(
      "MIYABI_API_URL=https://miyabi.example/api/v1 MIYABI_WORKER_TOKEN=mw_abc go run ./app/worker --concurrency 2 --agent-types codegen,review",
    );
    expect(runCommand("http://127.0.0.1:8080/api/v1", { token: "mw_x", max_concurrency: 1, agent_types: null })).not.toContain("--agent-types");
  });
});
