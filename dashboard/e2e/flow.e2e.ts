// The whole day of a user, against the real stack: sign in through the (fake) GitHub,
// create an organization, add a repository, create a worker token and start the local
// worker with it, launch an agent and follow it to completion, run a workflow, switch
// organization and see none of the first one's data, sign out. Every page gets an axe-core
// check (no serious or critical violation) and a screenshot in test-results/screenshots/.
// Steps whose API route has not landed are skipped by name (describe.skipIf(!hasRoute)).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page, WebSocketRoute } from "playwright-core";
import { signIn, startBrowserStack, type BrowserStack, type Stack } from "./stack";
import { axeCheck, screenshot } from "./browser";
import { hasRoute } from "./api-routes";

let env: BrowserStack;
let stack: Stack;
let context: BrowserContext;
let page: Page;
let workerStarted = false;
let invitationLink = "";
/** Uncaught page errors, and every confirm() the dashboard asked in order (each accepted). */
let pageErrors: string[] = [];
let dialogs: string[] = [];
const orgName = "Acme Robotics";
const repoName = "miyabi-demo/agent-playground";

beforeAll(async () => {
  env = await startBrowserStack({ timezoneId: "Asia/Tokyo", clipboard: true });
  ({ stack, context, page, pageErrors, dialogs } = env);
});

afterAll(async () => {
  await env?.close();
});

/** check holds the page a user is on to account: title, no pending loads, axe, a screenshot. */
async function check(name: string, title: RegExp) {
  await expect.poll(() => page.title(), { timeout: 10_000 }).toMatch(title);
  await expect.poll(() => page.locator("p.loading").count(), { timeout: 15_000 }).toBe(0);
  const violations = await axeCheck(page);
  expect(violations, `axe on ${name}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  await screenshot(page, name);
}

const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });
const nav = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

describe("sign-in and the shell", () => {
  it("shows the sign-in page with GitHub and the development login", async () => {
    await page.goto("/");
    await page.waitForURL(/\/sign-in/);
    await page.getByRole("link", { name: "Sign in with GitHub" }).waitFor();
    await page.getByLabel("GitHub login").waitFor();
    await check("sign-in", /^Sign in/);
  });

  it("signs in through GitHub and lands on the overview", async () => {
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    // The fake GitHub's authorize page lists who to sign in as.
    await page.getByRole("link", { name: /alice/i }).first().click();
    await page.waitForURL((u) => new URL(u).pathname === "/");
    await heading("Overview").waitFor();
    // A new user is shown the way to a first run.
    const steps = page.getByRole("region", { name: "Get started" }).getByRole("listitem");
    await expect.poll(() => steps.allTextContents()).toEqual([
      expect.stringContaining("Connect a repository"),
      expect.stringContaining("Start a worker"),
      expect.stringContaining("Launch an agent"),
    ]);
    // A favicon, served.
    const icon = await page.locator('link[rel="icon"]').getAttribute("href");
    expect((await page.request.get(icon ?? "/missing")).ok()).toBe(true);
    await check("overview-empty", /^Overview/);
  });

  it("can be used from the keyboard: skip link first, then the navigation", async () => {
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    await page.goto("/");
    await heading("Overview").waitFor();
    // Walk the tab order to the navigation and follow a link with Enter.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate(() => document.activeElement?.textContent)) === "Organization") break;
    }
    await page.keyboard.press("Enter");
    await heading("Organization").waitFor();
    // Focus moves to the new page's heading, for keyboard and screen-reader users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("page-title");
  });

  it("keeps a deep link across a reload (refresh cookie, SPA fallback)", async () => {
    await nav("Organization").click();
    await page.waitForURL(/\/settings$/);
    await page.reload();
    await heading("Organization").waitFor();
    expect(new URL(page.url()).pathname).toBe("/settings");
  });

  it("answers an unknown address with a not-found page inside the app", async () => {
    await page.goto("/no/such/page");
    await heading("Not found").waitFor();
  });
});

describe.skipIf(!hasRoute("post", "/organizations"))("organizations", () => {
  it("creates an organization and switches to it", async () => {
    await page.goto("/");
    await page.getByRole("link", { name: "New organization" }).click();
    await heading("New organization").waitFor();
    await check("organization-new", /^New organization/);
    await page.getByLabel("Name", { exact: true }).fill(orgName);
    await page.getByRole("button", { name: "Create organization" }).click();
    await heading("Overview").waitFor();
    const switcher = page.getByRole("combobox", { name: "Organization" });
    await expect.poll(async () => (await switcher.locator("option:checked").textContent()) ?? "").toContain(orgName);
  });
});

describe.skipIf(!hasRoute("post", "/repositories"))("repositories", () => {
  it("adds a repository from GitHub", async () => {
    await nav("Repositories").click();
    await heading("Repositories").waitFor();
    await page.getByText("No repositories yet").waitFor();
    await page.getByLabel(/^GitHub repository/).fill(repoName);
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByRole("cell", { name: repoName, exact: true }).waitFor();
    await check("repositories", /^Repositories/);
  });

  it("says in words when GitHub has no such repository (no field paths, no status codes)", async () => {
    await page.getByLabel(/^GitHub repository/).fill("https://github.com/miyabi-demo/no-such-repo");
    await page.getByText("Adds miyabi-demo/no-such-repo").waitFor();
    await page.getByRole("button", { name: "Add repository" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Repository not added" });
    await alert.waitFor();
    const text = (await alert.textContent()) ?? "";
    // Through the GitHub App (the e2e stack configures one) the API says the App cannot see it.
    expect(text).toMatch(/GitHub has no repository named miyabi-demo\/no-such-repo|App is not installed on miyabi-demo\/no-such-repo/);
    expect(text).not.toMatch(/body\.|HTTP \d|\b4\d\d\b/);
    await page.getByLabel(/^GitHub repository/).fill("");
  });

  it("shows the API's problem when the repository is already there", async () => {
    await page.getByLabel(/^GitHub repository/).fill(repoName);
    await page.getByRole("button", { name: "Add repository" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.filter({ hasText: "Repository not added" }).first().textContent()).toMatch(/already/i);
  });
});

describe.skipIf(!hasRoute("post", "/workers"))("workers", () => {
  it("creates a worker, shows its token once, and the local worker comes online with it", async () => {
    await nav("Workers").click();
    await heading("Workers").waitFor();
    await page.getByLabel("Worker name").fill("e2e-worker");
    await page.getByLabel("Max concurrency").fill("2");
    await page.getByRole("button", { name: "Create worker" }).click();
    const token = (await page.getByTestId("worker-token").textContent())?.trim() ?? "";
    expect(token).toMatch(/^mw_/);
    // How to run it: the exact command, token included, with a copy button.
    const command = (await page.getByTestId("worker-command").textContent()) ?? "";
    expect(command).toContain(`MIYABI_WORKER_TOKEN=${token}`);
    expect(command).toContain(`MIYABI_API_URL=${stack.apiURL}/api/v1`);
    expect(command).toContain("--concurrency 2");
    await page.getByRole("button", { name: "Copy command" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);
    await page.getByRole("button", { name: "Copy token" }).click();
    await page.getByRole("button", { name: "Copied" }).first().waitFor();
    // A worker that has not connected yet says so instead of "offline".
    await expect.poll(() => page.getByRole("row", { name: /e2e-worker/ }).locator(".badge").textContent()).toBe("never connected");
    await page.getByText(/A coordinator groups the workers of one host/).waitFor();
    await check("workers-token", /^Workers/);
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.getByTestId("worker-token").count()).toBe(0); // shown once

    workerStarted = await stack.startWorker(token);
    if (!workerStarted) return;
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.getByRole("row", { name: /e2e-worker/ }).textContent();
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toMatch(/online|busy/);
    await page.getByLabel("Coordinator name").fill("build-host");
    await page.getByLabel("Host", { exact: true }).fill("build-1.internal");
    await page.getByRole("button", { name: "Create coordinator" }).click();
    await page.getByRole("row", { name: /build-host/ }).waitFor();
    await check("workers", /^Workers/);
  });
});

describe.skipIf(!hasRoute("post", "/agents/execute"))("launching an agent", () => {
  it("launches an agent and follows its logs until it completes", async () => {
    await nav("Launch agent").click();
    await heading("Launch an agent").waitFor();
    await page.getByLabel("Repository").selectOption({ label: repoName });
    await page.getByLabel("Issue number").fill("7");
    await page.getByLabel("Agent type").selectOption("codegen");
    await check("launch", /^Launch an agent/);
    // Connected to live events, the page reads the logs when it opens, when the follow is
    // acknowledged and once more when the execution ends: never on a timer.
    const logReads: string[] = [];
    const onRequest = (r: { url: () => string }) => {
      if (/\/agents\/executions\/[0-9a-f-]{36}\/logs/.test(r.url())) logReads.push(r.url());
    };
    page.on("request", onRequest);
    // Another tab on the overview: the new execution appears there and completes without
    // a reload (summary.changed; its 15 s poll runs only while disconnected).
    const other = await context.newPage();
    await other.goto("/");
    await other.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    const otherRecent = other.getByRole("table", { name: "Recent executions" });
    const rowsBefore = await otherRecent.getByRole("row").count();
    // and a third on the Executions list: the execution appears and completes in place
    const list = await context.newPage();
    await list.goto("/executions");
    await list.getByRole("heading", { level: 1, name: "Executions" }).waitFor();
    await page.getByRole("button", { name: "Launch", exact: true }).click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    // The run page is named as people say it.
    await heading("codegen · agent-playground#7").waitFor();
    const details = page.locator("dl.panel.details");
    const issue = details.getByRole("link", { name: "#7" });
    expect(await issue.getAttribute("href")).toBe("https://github.com/miyabi-demo/agent-playground/issues/7");
    expect(await details.textContent()).toContain("Launched byalice");
    const launched = page.url().split("/").pop();
    if (!workerStarted) return; // nobody to run it: the rest needs the worker
    const logs = page.getByRole("log", { name: "Execution logs" });
    await expect.poll(() => logs.textContent(), { timeout: 60_000 }).toMatch(/codegen agent starting/);
    await expect.poll(() => page.locator(".details .badge").textContent(), { timeout: 60_000 }).toBe("completed");
    await expect.poll(() => logs.textContent(), { timeout: 10_000 }).toMatch(/pull request/i);
    await page.getByText("(following live)").waitFor({ state: "detached" });
    page.off("request", onRequest);
    expect(await page.getByText("(reconnecting…)").count()).toBe(0);
    await expect.poll(() => otherRecent.getByRole("row").count(), { timeout: 10_000 }).toBeGreaterThan(rowsBefore);
    await expect.poll(() => otherRecent.getByRole("row").nth(1).textContent(), { timeout: 10_000 }).toMatch(/completed/);
    await other.close();
    const listed = list.locator(`tr:has(a[href="/executions/${launched}"])`);
    await expect.poll(() => listed.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => listed.textContent(), { timeout: 10_000 }).toMatch(/completed/);
    await list.close();
    expect(logReads.length, `log reads while connected: ${logReads.join(", ")}`).toBeLessThanOrEqual(3);
    // The result is a result (summary, PR link), not a log line.
    const result = page.getByRole("region", { name: "Result" });
    await expect.poll(() => result.textContent()).toMatch(/codegen agent opened PR #107 for issue #7/);
    expect(await result.getByRole("link", { name: "#107" }).getAttribute("href")).toBe("https://github.com/miyabi-demo/agent-playground/pull/107");
    expect(await logs.textContent()).not.toContain('"quality_score"');
    expect(await logs.textContent()).toContain("reported its result");
    expect(await details.textContent()).toMatch(/Run time\d/);
    // Numbered lines with permalinks; stderr marked but not painted red.
    await logs.getByRole("link", { name: "Line 1", exact: true }).waitFor();
    await logs.getByRole("link", { name: "Line 2", exact: true }).click();
    expect(new URL(page.url()).hash).toBe("#L2");
    const stderr = logs.locator(".stream-stderr").first();
    if (await stderr.count()) {
      const colour = await stderr.locator(".log-msg").evaluate((el) => getComputedStyle(el).color);
      expect(colour).not.toBe("rgb(255, 138, 128)");
      expect(await stderr.locator(".log-stream").textContent()).toBe("stderr");
    }
    // Search narrows the lines; the permalink survives a reload.
    await page.getByLabel("Search the logs").fill("agent starting");
    await expect.poll(() => logs.locator(".log-line").count()).toBe(1);
    await page.getByText(/1 of \d+ lines/).waitFor();
    await page.getByLabel("Search the logs").fill("");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download" }).click();
    expect((await download).suggestedFilename()).toMatch(/^execution-[0-9a-f-]{36}\.log$/);
    await page.reload();
    await expect.poll(() => page.locator(".log-line.target").getAttribute("id")).toBe("L2");
    await check("execution-detail", /^codegen · agent-playground#7/);
  });

  it("re-runs an execution with the same inputs as a new one", async () => {
    if (!workerStarted) return;
    const first = page.url();
    await page.getByRole("button", { name: "Re-run" }).click();
    await page.waitForURL((u) => u.toString() !== first && /\/executions\/[0-9a-f-]{36}$/.test(u.pathname));
    await heading("codegen · agent-playground#7").waitFor();
  });

  it("lists it among the executions, filtered by status", async () => {
    await nav("Executions").click();
    await heading("Executions").waitFor();
    await page.getByLabel("Status").selectOption(workerStarted ? "completed" : "pending");
    await page.waitForURL(/status=/);
    await page.getByRole("link", { name: /codegen/ }).first().waitFor();
    await check("executions", /^Executions/);
    // The filter is in the address: a reload keeps it.
    await page.reload();
    expect(await page.getByLabel("Status").inputValue()).toBe(workerStarted ? "completed" : "pending");
  });
});

describe.skipIf(!hasRoute("post", "/workflows"))("workflows", () => {
  it("shows the API's validation message for a cyclic definition, then creates the workflow", async () => {
    await nav("Workflows").click();
    await heading("Workflows").waitFor();
    await page.getByText("No workflows yet").waitFor();
    await check("workflows-empty", /^Workflows/);
    await page.getByRole("link", { name: "New workflow" }).click();
    await heading("New workflow").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Plan then code");
    await page.getByLabel("Node name").first().fill("Plan");
    await page.getByLabel("Agent type").first().selectOption("coordinator");
    await page.getByRole("button", { name: "Add node" }).click();
    await page.getByLabel("Node name").nth(1).fill("Code");
    await page.getByLabel("Agent type").nth(1).selectOption("codegen");
    await page.getByRole("button", { name: "Add edge" }).click(); // analyze -> step2
    await page.getByRole("button", { name: "Add edge" }).click();
    // The second edge is not a copy of the first: its ends are left to choose.
    expect(await page.getByLabel("From").nth(1).inputValue()).toBe("");
    await page.getByLabel("From").nth(1).selectOption("step2");
    await page.getByLabel("To").nth(1).selectOption("analyze"); // a cycle
    await page.getByRole("button", { name: "Create workflow" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "not saved" });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/cycle|acyclic/i);
    await check("workflow-editor-error", /^New workflow/);
    await page.getByRole("button", { name: "Remove edge step2 to analyze" }).click();
    // The server's cycle error was about the old definition: it goes once the cycle is gone.
    await alert.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Create workflow" }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await heading("Plan then code").waitFor();
    await page.getByRole("img", { name: /2 nodes, 1 edge$/ }).waitFor();
    await check("workflow-detail", /^Plan then code/);
  });

  it("runs the workflow and shows each node's status", async () => {
    await page.getByLabel("Repository").selectOption({ label: repoName });
    await page.getByLabel("Issue number").fill("8");
    await page.getByRole("button", { name: "Run workflow" }).click();
    await page.waitForURL(/\/workflow-runs\/[0-9a-f-]{36}$/);
    await heading(/Run of Plan then code/).waitFor();
    const rows = page.getByRole("table", { name: "Nodes of the run" }).getByRole("row");
    await expect.poll(() => rows.count()).toBe(3);
    if (workerStarted) {
      await expect.poll(() => page.locator("p.row > .badge").first().textContent(), { timeout: 90_000 }).toBe("completed");
      expect(await rows.filter({ hasText: "completed" }).count()).toBe(2);
      // The DAG's nodes lead to their executions.
      await page.getByRole("button", { name: "Re-run" }).waitFor();
      await check("workflow-run", /^Run of/);
      await page.getByRole("link", { name: /^Code codegen · completed/ }).click();
      await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
      await heading(/^codegen · agent-playground#8/).waitFor();
      await page.goBack();
      await heading(/Run of Plan then code/).waitFor();
    }
    await check("workflow-run", /^Run of/);
    await nav("Workflows").click();
    await page.getByRole("img", { name: /Plan then code/ }).waitFor();
    await check("workflows", /^Workflows/);
  });
});

describe.skipIf(!hasRoute("get", "/tasks"))("tasks", () => {
  it("lists tasks with filters and offers only the allowed actions", async () => {
    await nav("Tasks").click();
    await heading("Tasks").waitFor();
    await page.getByRole("button", { name: "New task" }).click();
    await page.getByLabel("Task name").fill("Write the release notes");
    await page.getByLabel("Priority", { exact: true }).first().selectOption("P0");
    await page.getByRole("button", { name: "Create task" }).click();
    const row = page.getByRole("row", { name: /Write the release notes/ });
    await row.waitFor();
    // The next task starts from the default priority, not the last one's.
    expect(await page.locator("#nt-priority").inputValue()).toBe("P1");
    // A pending manual task: start, cancel, delete; never complete before it starts.
    await row.getByRole("button", { name: /^Start/ }).waitFor();
    expect(await row.getByRole("button", { name: /^Complete/ }).count()).toBe(0);
    await row.getByRole("button", { name: /^Start/ }).click();
    await row.getByRole("button", { name: /^Complete/ }).click();
    await expect.poll(() => row.locator(".badge").textContent()).toBe("completed");
    await page.getByLabel("Priority", { exact: true }).last().selectOption("P0");
    await page.waitForURL(/priority=P0/);
    await check("tasks", /^Tasks/);
    await page.getByLabel("Priority", { exact: true }).last().selectOption("");
  });

  it("sets a task's dependencies by name and shows them by name", async () => {
    await page.getByLabel("Task name").fill("Review the notes");
    await page.getByRole("button", { name: "Create task" }).click();
    await page.getByRole("row", { name: /Review the notes/ }).waitFor();
    await page.getByLabel("Task name").fill("Publish the notes");
    await page.getByLabel("Waits for (optional)").selectOption({ label: "Review the notes" });
    await page.getByRole("button", { name: "Create task" }).click();
    const row = page.getByRole("row", { name: /Publish the notes/ });
    await row.waitFor();
    expect(await row.textContent()).toContain("Waiting for Review the notes");
    await row.getByRole("link", { name: "Publish the notes" }).click();
    await heading("Publish the notes").waitFor();
    await page.locator(".details").getByRole("link", { name: "Review the notes" }).waitFor();
    await nav("Tasks").click();
  });

  it("cancels a task: its page names who cancelled it, and a task waiting on it is cancelled with it", async () => {
    await heading("Tasks").waitFor();
    await page.getByRole("button", { name: "New task" }).click();
    await page.getByLabel("Task name").fill("Draft the FAQ");
    await page.getByRole("button", { name: "Create task" }).click();
    const cancel = page.getByRole("button", { name: "Cancel Draft the FAQ", exact: true });
    await cancel.waitFor();
    await page.getByLabel("Task name").fill("Publish the FAQ");
    await page.getByLabel("Waits for (optional)").selectOption({ label: "Draft the FAQ" });
    await page.getByRole("button", { name: "Create task" }).click();
    await page.getByRole("button", { name: "Cancel Publish the FAQ", exact: true }).waitFor();
    await cancel.click();
    await expect.poll(() => cancel.count()).toBe(0);
    await expect.poll(() => page.getByRole("button", { name: "Cancel Publish the FAQ", exact: true }).count()).toBe(0);
    await page.getByRole("link", { name: "Publish the FAQ", exact: true }).click();
    await heading("Publish the FAQ").waitFor();
    // taken down by its dependency, not by a person
    await page.getByTestId("task-cancelled").waitFor();
    expect(await page.getByTestId("task-cancelled").textContent()).not.toContain("Cancelled by");
    expect(await page.locator(".details").textContent()).toContain("cancelled because a task it depends on cancelled");
    await page.locator(".details").getByRole("link", { name: "Draft the FAQ" }).click();
    await heading("Draft the FAQ").waitFor();
    await expect.poll(() => page.getByTestId("task-cancelled").textContent()).toMatch(/^Cancelled by @alice · /);
    await nav("Tasks").click();
  });

  it("edits a task's description and metadata, refusing metadata that is not JSON", async () => {
    await heading("Tasks").waitFor();
    await page.getByRole("link", { name: "Write the release notes" }).click();
    await heading("Write the release notes").waitFor();
    await page.getByLabel("Description").fill("Cover the new worker flags");
    const metadata = page.getByLabel(/^Metadata/);
    await metadata.fill('{"audience": "operators",}');
    await page.getByRole("button", { name: "Save task" }).click();
    await page.getByRole("alert").filter({ hasText: "not valid JSON" }).waitFor();
    await metadata.fill('{"audience": "operators", "pages": 2}');
    await page.getByRole("button", { name: "Save task" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const details = page.locator("dl.details");
    await expect.poll(() => details.textContent()).toMatch(/Cover the new worker flags/);
    expect(await details.textContent()).toMatch(/"audience": "operators"/);
    await check("task-detail", /^Write the release notes/);
  });
});

describe.skipIf(!hasRoute("post", "/organizations/{id}/teams"))("organization settings", () => {
  it("creates a team, invites a member and shows the invitation link once", async () => {
    await nav("Organization").click();
    await heading("Organization").waitFor();
    await page.getByLabel("Team name").fill("Platform");
    await page.getByRole("button", { name: "Create team" }).click();
    await page.getByText("Platform", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Rename team Platform" }).click();
    await page.getByLabel("New name of team Platform").fill("Platform crew");
    await page.getByRole("button", { name: "Save", exact: true }).last().click();
    await page.getByText("Platform crew", { exact: true }).waitFor();
    await page.getByLabel("GitHub login", { exact: true }).fill("bob");
    await page.getByLabel("Role", { exact: true }).selectOption("viewer");
    await page.getByRole("button", { name: "Invite" }).click();
    invitationLink = ((await page.locator(".secret").textContent()) ?? "").trim();
    expect(invitationLink).toMatch(/\/invitations\/[^/]+$/);
    await page.getByRole("cell", { name: "bob", exact: true }).waitFor();
    // Inviting bob again warns that the link just sent would die.
    await page.getByLabel("GitHub login", { exact: true }).fill("bob");
    await page.getByText("bob already has a pending invitation").waitFor();
    await page.getByLabel("GitHub login", { exact: true }).fill("");
    // The last owner's role cannot be changed from here.
    const members = page.getByRole("region", { name: "Members" });
    expect(await members.getByRole("combobox", { name: "Role of alice" }).count()).toBe(0);
    await check("settings", /^Organization/);
  });

  it("changes the organization's slug, showing the API's conflict for a taken one", async () => {
    const slug = page.getByLabel("Organization slug", { exact: true });
    await slug.fill("alice"); // alice's personal organization has it
    await page.getByRole("button", { name: "Change slug" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Slug not changed" });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/taken/);
    expect(await alert.textContent()).not.toMatch(/409/);
    await slug.fill("acme-bots");
    await page.getByRole("button", { name: "Change slug" }).click();
    await page.locator("code", { hasText: /^acme-bots$/ }).waitFor();
    expect(await page.getByRole("alert").filter({ hasText: "Slug not changed" }).count()).toBe(0);
  });
});

describe.skipIf(!hasRoute("get", "/dashboard/summary"))("overview with data", () => {
  it("shows the summary, the chart with its range switch, and recent executions", async () => {
    await nav("Overview").click();
    await heading("Overview").waitFor();
    await page.getByRole("img", { name: /Executions per hour/ }).waitFor();
    await page.getByRole("button", { name: "7 days" }).click();
    await page.getByRole("img", { name: /Executions per day, last 7 days/ }).waitFor();
    expect(await page.getByRole("button", { name: "7 days" }).getAttribute("aria-pressed")).toBe("true");
    await page.getByRole("table", { name: "Recent executions" }).getByRole("link", { name: /codegen/ }).first().waitFor();
    // The figures say what they count.
    const summary = page.getByRole("list", { name: "Summary" });
    await expect.poll(() => summary.textContent()).toMatch(/completed ÷ \(completed \+ failed\).*cancelled not counted/);
    expect(await summary.textContent()).toMatch(/Queued\d|\dQueued/);
    expect(await summary.textContent()).toContain("time in the queue not included");
    await check("overview", /^Overview/);
  });

  it("works on a phone-sized screen: a menu, the current page shown, cards that keep their actions", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
    await page.reload();
    await heading("Overview").waitFor();
    // The bar takes little room; the navigation opens from the menu button.
    const bar = await page.locator(".topbar").boundingBox();
    expect(bar!.height).toBeLessThan(80);
    expect(await page.getByRole("navigation", { name: "Main" }).isVisible()).toBe(false);
    const menu = page.getByRole("button", { name: /^Menu/ });
    expect(await menu.textContent()).toContain("Overview");
    await check("phone-overview", /^Overview/);
    for (const [item, title, name] of [
      ["Executions", /^Executions/, "phone-executions"],
      ["Tasks", /^Tasks/, "phone-tasks"],
      ["Repositories", /^Repositories/, "phone-repositories"],
      ["Workers", /^Workers/, "phone-workers"],
      ["Workflows", /^Workflows/, "phone-workflows"],
      ["Organization", /^Organization/, "phone-settings"],
    ] as const) {
      await menu.click();
      await nav(item).click();
      await expect.poll(() => page.title()).toMatch(title);
      expect(await page.getByRole("navigation", { name: "Main" }).isVisible()).toBe(false);
      expect(await menu.textContent()).toContain(item);
      await check(name, title);
    }
    // Rows are cards with their actions.
    await menu.click();
    await nav("Tasks").click();
    const card = page.locator("tr").filter({ has: page.locator("strong", { hasText: /^Review the notes$/ }) });
    await card.getByRole("button", { name: /^Start/ }).waitFor({ state: "visible" });
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it("shows the interface in Japanese when chosen, dates and numbers formatted for it", async () => {
    const jaChunks: string[] = [];
    page.on("request", (r) => /\/assets\/ja-[^/]*\.js$/.test(r.url()) && jaChunks.push(r.url()));
    await nav("Overview").click();
    await heading("Overview").waitFor();
    expect(jaChunks).toEqual([]); // English users never load Japanese
    await page.getByRole("combobox", { name: "Language" }).selectOption("ja");
    try {
      await heading("概要").waitFor();
      expect(jaChunks.length).toBe(1);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe("ja");
      const jaNav = (name: string) => page.getByRole("navigation", { name: "メイン" }).getByRole("link", { name, exact: true });
      await jaNav("実行").waitFor();
      await page.getByRole("region", { name: "実行数の推移" }).waitFor();
      const created = await page.getByRole("table", { name: "最近の実行" }).locator("time").first().getAttribute("title");
      expect(created).toMatch(/\d{4}年\d{1,2}月\d{1,2}日/);
      await check("overview-ja", /^概要/);
      await jaNav("タスク").click();
      await heading("タスク").waitFor();
      await check("tasks-ja", /^タスク/);
      // The choice is kept across a reload.
      await page.reload();
      await heading("タスク").waitFor();
      await page.getByRole("combobox", { name: "言語" }).selectOption("en");
      await heading("Tasks").waitFor();
    } finally {
      await page.evaluate(() => localStorage.setItem("miyabi.locale", "en"));
    }
  });

  it("shows every time in one zone, labelled, with a UTC toggle", async () => {
    await nav("Overview").click();
    await heading("Overview").waitFor();
    const zone = page.getByRole("combobox", { name: "Time zone" });
    const local = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await zone.locator("option:checked").textContent()).toBe(`Local (${local})`);
    await page.getByText(`Times in ${local}`).waitFor();
    await zone.selectOption("utc");
    await page.getByText("Times in UTC").waitFor();
    const title = await page.getByRole("table", { name: "Recent executions" }).locator("time").first().getAttribute("title");
    expect(title).toMatch(/\(UTC\)$/);
    await zone.selectOption("local");
  });
});

describe.skipIf(!hasRoute("post", "/organizations"))("switching organization", () => {
  it("shows none of the first organization's data in the other one", async () => {
    const switcher = page.getByRole("combobox", { name: "Organization" });
    await switcher.selectOption({ label: "alice (owner)" });
    await expect.poll(async () => (await switcher.locator("option:checked").textContent()) ?? "").toContain("alice");
    await heading("Overview").waitFor();
    if (hasRoute("get", "/dashboard/recent")) await page.getByText("No executions yet.").waitFor();
    if (hasRoute("get", "/repositories")) {
      await nav("Repositories").click();
      await page.getByText("No repositories yet").waitFor();
      expect(await page.getByText(repoName).count()).toBe(0);
    }
    if (hasRoute("get", "/workflows")) {
      await nav("Workflows").click();
      await page.getByText("No workflows yet").waitFor();
    }
    if (hasRoute("get", "/workers")) {
      await nav("Workers").click();
      await heading("Workers").waitFor();
      await page.getByText(/^No workers/).waitFor();
      expect(await page.getByText("e2e-worker").count()).toBe(0);
    }
  });
});

describe.skipIf(!hasRoute("post", "/agents/executions/{id}/cancel"))("cancelling an execution", () => {
  it("cancels an execution nobody has picked up (no worker in this organization)", async () => {
    await nav("Repositories").click();
    await page.getByLabel(/^GitHub repository/).fill("https://github.com/miyabi-demo/webapp/issues/3");
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByRole("cell", { name: "miyabi-demo/webapp", exact: true }).waitFor();
    await nav("Launch agent").click();
    await heading("Launch an agent").waitFor();
    await page.getByLabel("Repository", { exact: true }).selectOption({ label: "miyabi-demo/webapp" });
    // A pasted issue URL fills the issue number.
    await page.getByLabel("Issue number").fill("https://github.com/miyabi-demo/webapp/issues/3");
    expect(await page.getByLabel("Issue number").inputValue()).toBe("3");
    await page.getByLabel("Agent type").selectOption("review");
    // Nobody here runs review: the form says so before launching.
    await page.getByText("No worker online in alice accepts review").waitFor();
    await page.getByRole("button", { name: "Launch", exact: true }).click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.locator(".details .badge").textContent()).toBe("queued");
    await page.getByText("Waiting for a worker: none online in alice accepts review.").waitFor();
    await page.getByRole("main").getByRole("link", { name: "Workers" }).waitFor();
    await page.getByRole("button", { name: "Cancel execution" }).click();
    expect(dialogs.at(-1)).toMatch(/^Cancel review · webapp#3\?/);
    await expect.poll(() => page.locator(".details .badge").textContent()).toBe("cancelled");
    // Cancelled is grey everywhere, as in the chart.
    expect(await page.locator(".details .badge").evaluate((el) => getComputedStyle(el).color)).toBe("rgb(75, 83, 96)");
    expect(await page.getByRole("button", { name: "Cancel execution" }).count()).toBe(0);
    await check("execution-cancelled", /^review · webapp#3/);
  });

  it("stops at a 404 execution and offers the user's other organizations", async () => {
    const calls: string[] = [];
    const onRequest = (r: { url: () => string }) => r.url().includes("/agents/executions/") && calls.push(r.url());
    page.on("request", onRequest);
    await page.goto("/executions/00000000-0000-4000-8000-000000000000");
    await page.getByRole("heading", { name: "Execution not found" }).waitFor();
    await page.getByRole("button", { name: `Look in ${orgName}` }).waitFor();
    const seen = calls.length;
    await page.waitForTimeout(3000); // a window to see that nothing polls
    page.off("request", onRequest);
    expect(calls.length).toBe(seen);
    expect(seen).toBeLessThanOrEqual(1);
    expect(await page.getByText("Loading logs").count()).toBe(0);
    await check("execution-404", /^Execution/);
    // Every object page answers a 404 the same way (task, workflow), not with a bare error.
    for (const [path, what] of [["/tasks/", "Task"], ["/workflows/", "Workflow"]]) {
      await page.goto(`${path}00000000-0000-4000-8000-000000000000`);
      await page.getByRole("heading", { name: `${what} not found` }).waitFor();
      await page.getByRole("button", { name: `Look in ${orgName}` }).waitFor();
    }
  });

  it("keeps the last data under one reconnecting banner through an outage", async () => {
    await nav("Executions").click();
    await heading("Executions").waitFor();
    // An outage of the API: its requests fail and the live events connection drops with
    // them. The events socket runs through a route the test can cut (passed through otherwise).
    let down = false;
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/api\/v1\/events\?/, (ws) => {
      if (down) return void ws.close();
      ws.connectToServer();
      sockets.push(ws);
    });
    await page.reload();
    await page.getByRole("link", { name: /review · webapp#3/ }).waitFor();
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBeGreaterThan(0);
    down = true;
    await page.route("**/api/v1/**", (r) => r.abort());
    for (const ws of sockets.splice(0)) await ws.close();
    const banner = page.getByRole("status").filter({ hasText: "Reconnecting" });
    await banner.waitFor({ timeout: 20_000 }); // disconnected, the list looks again every 10 s
    expect(await page.getByRole("link", { name: /review · webapp#3/ }).isVisible()).toBe(true);
    expect(await page.getByRole("alert").count()).toBe(0);
    await check("outage", /^Executions/);
    down = false;
    await page.unroute("**/api/v1/**");
    await banner.waitFor({ state: "detached", timeout: 15_000 });
  });

  it("keeps a draft through a session that ends, and says why the user was signed out", async () => {
    await nav("Tasks").click();
    await heading("Tasks").waitFor();
    await page.getByRole("button", { name: "New task" }).click();
    await page.getByLabel("Task name").fill("Half-written task");
    // The session ends under the user (as when it is revoked elsewhere).
    stack.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE revoked_at IS NULL");
    await page.getByLabel("Status", { exact: true }).selectOption("failed"); // any request now finds the session gone
    await page.waitForURL(/\/sign-in\?next=/);
    await page.getByText("Your session ended, so you were signed out").waitFor();
    await signIn(page, "alice");
    await heading("Tasks").waitFor();
    await page.getByText("Your unsent draft was restored.").waitFor();
    expect(await page.getByLabel("Task name").inputValue()).toBe("Half-written task");
  });

  it("keeps a half-built workflow through a session that ends", async () => {
    await nav("Workflows").click();
    await page.getByRole("link", { name: "New workflow" }).click();
    await heading("New workflow").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Half-built workflow");
    stack.sql("UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE revoked_at IS NULL");
    await nav("Workflows").click(); // the list's request finds the session gone
    await page.waitForURL(/\/sign-in\?next=/);
    await signIn(page, "alice");
    await heading("Workflows").waitFor();
    await page.getByRole("link", { name: "New workflow" }).click();
    await page.getByText("Your unsent draft was restored.").waitFor();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Half-built workflow");
  });
});

describe.skipIf(!hasRoute("post", "/organizations"))("names in any script", () => {
  it("creates two all-Japanese organizations, each with its own suggested, editable slug", async () => {
    const slugs: string[] = [];
    for (const name of ["雅 東京チーム", "雅 大阪"]) {
      await page.goto("/organizations/new");
      await heading("New organization").waitFor();
      await page.getByLabel("Name", { exact: true }).fill(name);
      const slug = page.getByLabel("Slug (in addresses)");
      await expect.poll(() => slug.inputValue()).toMatch(/^[a-z0-9][a-z0-9-]+$/);
      slugs.push(await slug.inputValue());
      await page.getByRole("button", { name: "Create organization" }).click();
      await heading("Overview").waitFor();
      const switcher = page.getByRole("combobox", { name: "Organization" });
      await expect.poll(async () => (await switcher.locator("option:checked").textContent()) ?? "").toContain(name);
    }
    expect(slugs[0]).not.toBe(slugs[1]);
    // The suggestion is editable: a chosen slug is the one used.
    await page.goto("/organizations/new");
    await page.getByLabel("Name", { exact: true }).fill("雅 名古屋");
    await page.getByLabel("Slug (in addresses)").fill("miyabi-nagoya");
    await page.getByRole("button", { name: "Create organization" }).click();
    await heading("Overview").waitFor();
    await nav("Organization").click();
    await page.locator("code", { hasText: /^miyabi-nagoya$/ }).first().waitFor();
    const switcher = page.getByRole("combobox", { name: "Organization" });
    await switcher.selectOption({ label: "alice (owner)" });
    await heading("Overview").waitFor();
  });
});

describe("sign out", () => {
  it("signs out, and a reload stays signed out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
    await page.reload();
    await page.getByRole("link", { name: "Sign in with GitHub" }).waitFor();
    expect(page.url()).toMatch(/\/sign-in/);
  });
});

describe.skipIf(!hasRoute("post", "/invitations/{token}/accept"))("a viewer", () => {
  it("signs in with the development login, accepts the invitation and is offered no writes", async () => {
    expect(invitationLink).not.toBe("");
    // The deep link survives sign-in: after the dev login the invitation page opens.
    await page.goto(new URL(invitationLink).pathname);
    await page.waitForURL(/\/sign-in\?next=/);
    await signIn(page, "bob");
    await heading("Invitation").waitFor();
    await check("invitation", /^Invitation/);
    await page.getByRole("button", { name: "Accept invitation" }).click();
    await heading("Overview").waitFor();
    const switcher = page.getByRole("combobox", { name: "Organization" });
    await expect.poll(async () => (await switcher.locator("option:checked").textContent()) ?? "").toContain(`${orgName} (viewer)`);
    expect(await page.getByRole("link", { name: "Launch an agent" }).count()).toBe(0);
    expect(await nav("Launch agent").count()).toBe(0);

    await nav("Repositories").click();
    await page.getByRole("cell", { name: repoName, exact: true }).waitFor();
    expect(await page.getByLabel(/^GitHub repository/).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Deactivate|Remove/ }).count()).toBe(0);

    await nav("Workers").click();
    await heading("Workers").waitFor();
    await page.getByRole("row", { name: /e2e-worker/ }).waitFor();
    expect(await page.getByRole("button", { name: /Create worker|Revoke/ }).count()).toBe(0);

    await nav("Tasks").click();
    await page.getByRole("row", { name: /Write the release notes/ }).waitFor();
    expect(await page.getByRole("button", { name: /^(Start|Complete|Fail|Cancel|Retry|Delete|New task)/ }).count()).toBe(0);
    await page.getByRole("link", { name: "Write the release notes" }).click();
    await heading("Write the release notes").waitFor();
    expect(await page.getByRole("form", { name: "Edit task" }).count()).toBe(0);

    await nav("Workflows").click();
    await page.getByRole("img", { name: /Plan then code/ }).waitFor();
    expect(await page.getByRole("link", { name: /New workflow|Edit/ }).count()).toBe(0);
    await check("workflows-viewer", /^Workflows/);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
  });

  it("the owner suspends the viewer and reactivates them", async () => {
    await signIn(page, "alice");
    await heading("Overview").waitFor();
    const switcher = page.getByRole("combobox", { name: "Organization" });
    if (!((await switcher.locator("option:checked").textContent()) ?? "").includes(orgName)) {
      await switcher.selectOption({ label: `${orgName} (owner)` });
      await expect.poll(async () => (await switcher.locator("option:checked").textContent()) ?? "").toContain(orgName);
    }
    await nav("Organization").click();
    await heading("Organization").waitFor();
    const bob = page.getByRole("region", { name: "Members" }).getByRole("row", { name: /bob/ });
    await bob.getByRole("button", { name: "Suspend bob" }).click();
    expect(dialogs.at(-1)).toMatch(/^Suspend bob\?/); // asked, as Remove is
    await expect.poll(() => bob.locator(".badge").textContent()).toBe("suspended");
    await bob.getByRole("button", { name: "Reactivate bob" }).click();
    await expect.poll(() => bob.locator(".badge").textContent()).toBe("active");
    await check("settings-members", /^Organization/);
  });

  it("raised no uncaught page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
