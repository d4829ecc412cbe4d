import { describe, expect, it } from "vitest";
import { IN_FLIGHT_MS, MAX_WAIT_MS, fingerprint, nextRefreshIn } from "./refresh";

const now = Date.parse("2026-12-03T07:00:00Z");
const d = (status: "pending" | "delivering" | "delivered" | "failed", next_attempt_at: string | null = null, attempts = 1) => ({
  id: "d1",
  status,
  attempts,
  next_attempt_at,
});

describe("nextRefreshIn", () => {
  it("reads a log with an attempt in flight again soon", () => {
    expect(nextRefreshIn([d("delivered"), d("delivering")], now)).toBe(IN_FLIGHT_MS);
  });
  it("reads just after a retry due soon, not before", () => {
    expect(nextRefreshIn([d("pending", "2026-12-03T07:00:20Z")], now)).toBe(21_000);
    expect(nextRefreshIn([d("pending", "2026-12-03T06:59:00Z")], now)).toBe(IN_FLIGHT_MS);
  });
  it("leaves a settled log or a far retry alone", () => {
    expect(nextRefreshIn([d("delivered"), d("failed")], now)).toBeNull();
    expect(nextRefreshIn([d("pending", "2026-12-03T08:00:00Z")], now)).toBeNull();
    expect(nextRefreshIn([], now)).toBeNull();
  });
  it("backs off while a delivery stays stuck in flight or overdue, up to 30 s", () => {
    const waits = [0, 1, 2, 3, 4, 5, 9].map((n) => nextRefreshIn([d("delivering")], now, n));
    expect(waits).toEqual([1500, 3000, 6000, 12_000, 24_000, MAX_WAIT_MS, MAX_WAIT_MS]);
    expect(nextRefreshIn([d("pending", "2026-12-03T06:50:00Z")], now, 8)).toBe(MAX_WAIT_MS);
    // a retry due in 45 s is still read just after it, not later
    expect(nextRefreshIn([d("pending", "2026-12-03T07:00:45Z")], now, 8)).toBe(46_000);
  });
});

describe("fingerprint", () => {
  it("changes with a new attempt or status, not otherwise", () => {
    expect(fingerprint([d("delivering", null, 1)])).toBe(fingerprint([d("delivering", null, 1)]));
    expect(fingerprint([d("delivering", null, 1)])).not.toBe(fingerprint([d("delivering", null, 2)]));
    expect(fingerprint([d("delivering")])).not.toBe(fingerprint([d("delivered")]));
  });
});
