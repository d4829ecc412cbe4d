import { defineConfig } from "vitest/config";

// End-to-end: one long, ordered flow against the real stack (started by e2e/stack.ts).
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
