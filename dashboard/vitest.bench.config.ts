import { defineConfig } from "vitest/config";

// bench/dashboard/run.sh: not a test suite, a measurement that prints a table.
export default defineConfig({
  test: {
    environment: "node",
    include: ["bench/**/*.measure.ts"],
    testTimeout: 300_000,
    hookTimeout: 240_000,
  },
});
