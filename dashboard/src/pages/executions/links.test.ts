import { describe, expect, it } from "vitest";
import { executionTitle, githubIssueURL, githubPullURL, parseGitHubRef } from "./links";
import { filterLines, isResultLine } from "./LogView";

describe("the run page's names and links", () => {
  const e = { agent_type: "codegen", repository_full_name: "miyabi-demo/agent-playground", issue_number: 42, pr_number: 142 };
  it("names a run as people say it", () => {
    expect(executionTitle(e)).toBe("codegen · agent-playground#42");
    expect(executionTitle({ ...e, repository_full_name: null })).toBe("codegen");
  });
  it("links the issue and the pull request on GitHub", () => {
    expect(githubIssueURL(e)).toBe("https://github.com/miyabi-demo/agent-playground/issues/42");
    expect(githubPullURL(e)).toBe("https://github.com/miyabi-demo/agent-playground/pull/142");
    expect(githubPullURL({ ...e, pr_number: null })).toBeNull();
  });
  it.each([
    ["miyabi-demo/webapp", { fullName: "miyabi-demo/webapp", issue: undefined }],
    ["https://github.com/miyabi-demo/webapp", { fullName: "miyabi-demo/webapp", issue: undefined }],
    ["github.com/miyabi-demo/webapp.git", { fullName: "miyabi-demo/webapp", issue: undefined }],
    ["https://github.com/miyabi-demo/webapp/issues/12", { fullName: "miyabi-demo/webapp", issue: 12 }],
    ["https://github.com/miyabi-demo/webapp/pull/7#discussion", { fullName: "miyabi-demo/webapp", issue: 7 }],
    ["miyabi-demo/webapp#3", { fullName: "miyabi-demo/webapp", issue: 3 }],
  ])("reads a pasted %s", (input, want) => {
    expect(parseGitHubRef(input)).toEqual(want);
  });
  it.each(["webapp", "https://gitlab.com/a/b", "a/b/c", ""])("refuses %j", (input) => {
    expect(parseGitHubRef(input)).toBeNull();
  });
});

describe("log lines", () => {
  const line = (id: number, stream: string, message: string) => ({ id, stream, message, logged_at: "2026-12-02T00:00:00Z" }) as never;
  const lines = [line(1, "stdout", "starting"), line(2, "stderr", "note: slow step"), line(3, "stdout", "[2/3] tests"), line(4, "stdout", '{"summary":"done","pr_number":5}')];
  it("keeps line numbers through a search or a stream filter", () => {
    expect(filterLines(lines, "all", "STEP").map((x) => x.n)).toEqual([2]);
    expect(filterLines(lines, "stdout", "").map((x) => x.n)).toEqual([1, 3, 4]);
    expect(filterLines(lines, "stderr", "tests")).toEqual([]);
  });
  it("recognises the agent's result line", () => {
    expect(isResultLine(lines[3]!)).toBe(true);
    expect(isResultLine(line(5, "stdout", '{"other": 1}'))).toBe(false);
    expect(isResultLine(line(6, "stderr", '{"summary": "x"}'))).toBe(false);
    expect(isResultLine(line(7, "stdout", "{not json"))).toBe(false);
  });
});
