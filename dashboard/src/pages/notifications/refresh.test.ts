import { describe, expect, it } from "vitest";
import { IN_FLIGHT_MS, nextRefreshIn } from "./refresh";

const now = Date.parse("2026-12-03T07:00:00Z");

describe("nextRefreshIn", () => {
  it("reads a log with an attempt in flight again soon", () => {
    expect(nextRefreshIn([{ status: "delivered", next_attempt_at: null }, { status: "delivering", next_attempt_at: null }], now)).toBe(IN_FLIGHT_MS);
  });
  it("reads just after a retry due soon, not before", () => {
    expect(nextRefreshIn([{ status: "pending", next_attempt_at: "2026-12-03T07:00:20Z" }], now)).toBe(21_000);
    expect(nextRefreshIn([{ status: "pending", next_attempt_at: "2026-12-03T06:59:00Z" }], now)).toBe(IN_FLIGHT_MS);
  });
  it("leaves a settled log or a far retry alone", () => {
    expect(nextRefreshIn([{ status: "delivered", next_attempt_at: null }, { status: "failed", next_attempt_at: null }], now)).toBeNull();
    expect(nextRefreshIn([{ status: "pending", next_attempt_at: "2026-12-03T08:00:00Z" }], now)).toBeNull();
    expect(nextRefreshIn([], now)).toBeNull();
  });
});
