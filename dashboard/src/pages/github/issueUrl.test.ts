import { describe, expect, it } from "vitest";
import { parseIssueUrl } from "./issueUrl";

describe("parseIssueUrl", () => {
  it("reads an issue URL", () => {
    expect(parseIssueUrl("https://github.com/miyabi-demo/agent-playground/issues/12")).toEqual({
      fullName: "miyabi-demo/agent-playground",
      number: 12,
    });
  });
  it("accepts spaces around it, a trailing slash, an anchor and pull request URLs", () => {
    expect(parseIssueUrl("  https://github.com/a/b/issues/3#issuecomment-1 ")).toEqual({ fullName: "a/b", number: 3 });
    expect(parseIssueUrl("https://github.com/a/b.js/pull/7/")).toEqual({ fullName: "a/b.js", number: 7 });
  });
  it("refuses what is not a GitHub issue", () => {
    for (const bad of ["", "12", "https://gitlab.com/a/b/issues/1", "https://github.com/a/b", "https://github.com/a/b/issues/0", "https://github.com/a/b/issues/x", "javascript:alert(1)"]) {
      expect(parseIssueUrl(bad)).toBeNull();
    }
  });
});
