import { describe, expect, it } from "vitest";
import { en, type Messages } from "./en";
import { ja } from "./ja";
import { formatDuration, makeFormatter, pickLocale } from "./format";

/** Every key path of a catalogue, with the kind of value at it. */
function shape(o: object, at = ""): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === "object" && v !== null ? shape(v as object, `${at}${k}.`) : [`${at}${k}:${typeof v}`],
  );
}

describe("message catalogues", () => {
  it("ja has exactly en's keys (the type check enforces it; this shows it at run time too)", () => {
    expect(shape(ja).sort()).toEqual(shape(en).sort());
  });

  it("the ja catalogue's type refuses a missing key", () => {
    // @ts-expect-error nav.tasks is missing: the build fails on an incomplete catalogue
    const broken: Messages["nav"] = { overview: "", launch: "", executions: "", repositories: "", workflows: "", workers: "", settings: "" };
    expect(broken).toBeDefined();
  });

  it("follows the browser until the user chooses", () => {
    expect(pickLocale(null, ["ja-JP", "en-US"])).toBe("ja");
    expect(pickLocale(null, ["en-GB", "ja"])).toBe("en");
    expect(pickLocale(null, ["fr-FR"])).toBe("en");
    expect(pickLocale("en", ["ja-JP"])).toBe("en");
  });
});

describe("formatting per locale and zone", () => {
  const at = "2026-12-02T15:30:05.250Z";
  it("shows one instant in the browser's zone or in UTC, labelled", () => {
    const tokyo = makeFormatter("en", "local", "Asia/Tokyo");
    const utc = makeFormatter("en", "utc", "Asia/Tokyo");
    expect(tokyo.zoneLabel).toBe("Asia/Tokyo");
    expect(tokyo.time(at)).toBe("00:30:05");
    expect(utc.zoneLabel).toBe("UTC");
    expect(utc.time(at)).toBe("15:30:05");
    expect(tokyo.logTime(at)).toBe("00:30:05.250");
    expect(tokyo.bucket(at, "hour")).toBe("00:30");
  });
  it("formats dates and numbers for Japanese", () => {
    const f = makeFormatter("ja", "local", "Asia/Tokyo");
    expect(f.dateTime(at)).toMatch(/^2026年12月3日/);
    expect(f.number(1234567)).toBe("1,234,567");
    expect(f.percent(0.5)).toBe("50%");
    expect(f.relative(new Date(Date.parse(at) - 5 * 60_000), Date.parse(at))).toBe("5 分前");
  });
  it("formats durations in each language", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_500)).toBe("12.5 s");
    expect(formatDuration(184_000)).toBe("3 min 4 s");
    expect(formatDuration(184_000, "ja")).toBe("3分 4秒");
  });
});
