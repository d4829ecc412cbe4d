import { describe, expect, it } from "vitest";
import { formatMetadata, parseMetadata } from "./metadata";

describe("parseMetadata", () => {
  it.each([
    ["an object", '{"team": "docs", "points": 3}', { team: "docs", points: 3 }],
    ["an empty object", "{}", {}],
    ["nested values and surrounding space", '  {"a": {"b": [1, null]}}\n', { a: { b: [1, null] } }],
    // Syntax only: the API answers a non-object with its own 422.
    ["a valid non-object, left to the API", "[1, 2]", [1, 2]],
  ] as const)("accepts %s", (_n, text, want) => {
    expect(parseMetadata(text)).toEqual({ ok: true, value: want });
  });

  it.each([
    ["an empty field", "   ", /empty: write \{\} for none/],
    ["a trailing comma", '{"a": 1,}', /^Metadata is not valid JSON: /],
    ["unquoted keys", "{a: 1}", /^Metadata is not valid JSON: /],
    ["an unclosed object", '{"a": 1', /^Metadata is not valid JSON: /],
  ] as const)("refuses %s", (_n, text, want) => {
    const got = parseMetadata(text);
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.error).toMatch(want);
  });
});

describe("formatMetadata", () => {
  it("round-trips through parseMetadata", () => {
    const m = { labels: ["docs"], estimate: 2 };
    expect(parseMetadata(formatMetadata(m))).toEqual({ ok: true, value: m });
  });
  it("shows missing metadata as an empty object", () => {
    expect(formatMetadata(null)).toBe("{}");
  });
});
