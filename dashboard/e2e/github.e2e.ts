// The GitHub loop in the dashboard, against the real stack: a connected repository lists its
// open issues from (fake) GitHub with their labels, an agent is launched from an issue, and
// when GitHub reports the pull request (a signed webhook the fake sends) the execution page
// shows it as a link. Every page gets an axe-core check and a screenshot.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startStack, type Stack } from "./stack";
import { axeCheck, launch, screenshot } from "./browser";
import { hasRoute } from "./api-routes";

let stack: Stack;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const repoName = "miyabi-demo/agent-playground";

beforeAll(async () => {
  stack = await startStack();
  browser = await launch();
  const context = await browser.newContext({ baseURL: stack.apiURL, viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
});

async function check(name: string, title: RegExp) {
  await expect.poll(() => page.title(), { timeout: 10_000 }).toMatch(title);
  await expect.poll(() => page.locator("p.loading").count(), { timeout: 15_000 }).toBe(0);
  const violations = await axeCheck(page);
  expect(violations, `axe on ${name}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  await screenshot(page, name);
}

const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });

describe.skipIf(!hasRoute("get", "/repositories/{id}/issues"))("the GitHub loop", () => {
  let executionId = "";

  it("lists a repository's open issues from GitHub, with labels", async () => {
    await page.goto("/");
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await page.getByRole("link", { name: /alice/i }).first().click();
    await heading("Overview").waitFor();
    await page.goto("/repositories");
    await heading("Repositories").waitFor();
    await page.getByLabel(/^GitHub repository/).fill(repoName);
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByRole("cell", { name: repoName, exact: true }).waitFor();
    await page.getByRole("link", { name: `Issues of ${repoName}` }).click();
    await heading(`Issues of ${repoName}`).waitFor();
    const list = page.getByRole("list", { name: "Open issues" });
    await list.getByRole("link", { name: "#2 Login page breaks on narrow screens" }).waitFor();
    await list.getByText("bug", { exact: true }).waitFor();
    await check("repository-issues", /^Issues of/);
  });

  it("launches an agent on an issue", async () => {
    await page.getByLabel("Agent for #2").selectOption("review");
    await page.getByRole("button", { name: "Launch an agent on this (#2)" }).click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    executionId = new URL(page.url()).pathname.split("/").pop() ?? "";
    await heading(/^review · agent-playground#2$/).waitFor(); // the run page names what ran where
    await page.getByText("#2", { exact: true }).waitFor();
  });

  it("shows the pull request GitHub reports as a link", async () => {
    // GitHub says a pull request was opened on the execution's branch
    const res = await fetch(`${stack.githubURL}/_fake/pull`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ repo: repoName, number: "42", head: `miyabi/${executionId}`, action: "opened", login: "alice" }),
    });
    expect(await res.json()).toMatchObject({ app_status: 204 });
    await page.reload();
    const link = page.getByRole("link", { name: "#42" });
    await link.waitFor();
    expect(await link.getAttribute("href")).toBe(`https://github.com/${repoName}/pull/42`);
    await check("execution-with-pull-request", /^review · /);
    expect(pageErrors).toEqual([]);
  });
});
