import { describe, expect, it } from "vitest";
import { makeFormatter, wallTimeToInstant, zoneOffsetMs } from "./format";

// The audit log's date filters: what a user types is read in the zone they chose (the
// browser's, or UTC), whatever zone the machine running the test is in.
describe("reading a date and time typed in the chosen zone", () => {
  it("in UTC, the time as typed", () => {
    expect(wallTimeToInstant("2026-12-02T15:30", "UTC")).toBe("2026-12-02T15:30:00.000Z");
    expect(wallTimeToInstant("2026-12-02T15:30:45", "UTC")).toBe("2026-12-02T15:30:45.000Z");
    expect(wallTimeToInstant("2026-12-02T15:30:45.5", "UTC")).toBe("2026-12-02T15:30:45.500Z");
  });

  it("in Asia/Tokyo, nine hours earlier in UTC, across midnight and a year's end", () => {
    expect(wallTimeToInstant("2026-12-03T00:30", "Asia/Tokyo")).toBe("2026-12-02T15:30:00.000Z");
    expect(wallTimeToInstant("2027-01-01T08:59", "Asia/Tokyo")).toBe("2026-12-31T23:59:00.000Z");
    expect(zoneOffsetMs(Date.parse("2026-12-02T15:30:00Z"), "Asia/Tokyo")).toBe(9 * 3_600_000);
  });

  it("in zones behind UTC and off the hour", () => {
    expect(wallTimeToInstant("2026-12-02T10:30", "America/New_York")).toBe("2026-12-02T15:30:00.000Z"); // EST
    expect(wallTimeToInstant("2026-07-02T11:30", "America/New_York")).toBe("2026-07-02T15:30:00.000Z"); // EDT
    expect(wallTimeToInstant("2026-12-02T21:00", "Asia/Kolkata")).toBe("2026-12-02T15:30:00.000Z");
    expect(wallTimeToInstant("2026-12-03T04:45", "Pacific/Chatham")).toBe("2026-12-02T15:00:00.000Z"); // +13:45
  });

  it("a time skipped by summer time is read as after the jump; a repeated one as the first", () => {
    // New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
    expect(wallTimeToInstant("2026-03-08T02:30", "America/New_York")).toBe("2026-03-08T07:30:00.000Z"); // 03:30 EDT
    expect(wallTimeToInstant("2026-03-08T03:00", "America/New_York")).toBe("2026-03-08T07:00:00.000Z");
    // 1 November 2026: 01:30 happens twice, first in EDT (05:30Z), then in EST (06:30Z).
    expect(wallTimeToInstant("2026-11-01T01:30", "America/New_York")).toBe("2026-11-01T05:30:00.000Z");
  });

  it("refuses what is not a whole date and time", () => {
    for (const v of ["", "2026-12-02", "2026-12-02T15", "2026-02-30T10:00", "2026-12-02T24:00", "2026-12-02T15:60", "12/02/2026 15:30", "+012026-12-02T15:30"]) {
      expect(wallTimeToInstant(v, "UTC"), v).toBeNull();
    }
  });

  it("the formatter reads inputs in the zone it shows times in, and shows them back the same", () => {
    const tokyo = makeFormatter("en", "local", "Asia/Tokyo");
    const utc = makeFormatter("en", "utc", "Asia/Tokyo");
    const typed = "2026-12-03T00:30";
    const inTokyo = tokyo.inputToInstant(typed)!;
    const inUTC = utc.inputToInstant(typed)!;
    expect(inTokyo).toBe("2026-12-02T15:30:00.000Z");
    expect(inUTC).toBe("2026-12-03T00:30:00.000Z");
    expect(Date.parse(inUTC) - Date.parse(inTokyo)).toBe(9 * 3_600_000);
    // what the list then shows for that instant is what was typed, in each zone
    expect(tokyo.dateTime(inTokyo)).toMatch(/3 Dec 2026.*00:30:00/);
    expect(utc.dateTime(inUTC)).toMatch(/3 Dec 2026.*00:30:00/);
    expect(tokyo.inputToInstant("")).toBeNull();
  });
});
