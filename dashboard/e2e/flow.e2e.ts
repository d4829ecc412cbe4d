// The whole day of a user, against the real stack: sign in through the (fake) GitHub,
// create an organization, add a repository, create a worker token and start the local
// worker with it, launch an agent and follow it to completion, run a workflow, switch
// organization and see none of the first one's data, sign out. Every page gets an axe-core
// check (no serious or critical violation) and a screenshot in test-results/screenshots/.
// Steps whose API route has not landed are skipped by name (describe.skipIf(!hasRoute)).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startStack, type Stack } from "./stack";
import { axeCheck, launch, screenshot } from "./browser";
import { hasRoute } from "./api-routes";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let workerStarted = false;
let invitationLink = "";
const pageErrors: string[] = [];
const orgName = "Acme Robotics";
const repoName = "miyabi-demo/agent-playground";

beforeAll(async () => {
  stack = await startStack();
  browser = await launch();
  context = await browser.newContext({ baseURL: stack.apiURL, viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.apiURL });
  page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await stack?.stop();
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
    for (let i = 0; i < 15; i++) {
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
    await page.getByLabel("GitHub repository (owner/name)").fill(repoName);
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByRole("cell", { name: repoName, exact: true }).waitFor();
    await check("repositories", /^Repositories/);
  });

  it("shows the API's problem when the repository is already there", async () => {
    await page.getByLabel("GitHub repository (owner/name)").fill(repoName);
    await page.getByRole("button", { name: "Add repository" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/409|Conflict|already/i);
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
    await page.getByRole("button", { name: "Copy token" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
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
    const launched = page.url().split("/").pop();
    await heading("Execution").waitFor();
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
    await check("execution-detail", /^Execution/);
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
    await page.getByLabel("From").nth(1).selectOption("step2");
    await page.getByLabel("To").nth(1).selectOption("analyze"); // a cycle
    await page.getByRole("button", { name: "Create workflow" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "not saved" });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/cycle|acyclic/i);
    await check("workflow-editor-error", /^New workflow/);
    await page.getByRole("button", { name: "Remove edge step2 to analyze" }).click();
    await page.getByRole("button", { name: "Create workflow" }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await heading("Plan then code").waitFor();
    await page.getByRole("img", { name: /2 nodes, 1 edges/ }).waitFor();
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
    await page.getByRole("button", { name: "Create task" }).click();
    const row = page.getByRole("row", { name: /Write the release notes/ });
    await row.waitFor();
    // A pending manual task: start, cancel, delete; never complete before it starts.
    await row.getByRole("button", { name: /^Start/ }).waitFor();
    expect(await row.getByRole("button", { name: /^Complete/ }).count()).toBe(0);
    await row.getByRole("button", { name: /^Start/ }).click();
    await row.getByRole("button", { name: /^Complete/ }).click();
    await expect.poll(() => row.locator(".badge").textContent()).toBe("completed");
    await page.getByLabel("Priority", { exact: true }).last().selectOption("P1");
    await page.waitForURL(/priority=P1/);
    await check("tasks", /^Tasks/);
  });

  it("edits a task's description and metadata, refusing metadata that is not JSON", async () => {
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
    await check("settings", /^Organization/);
  });

  it("changes the organization's slug, showing the API's conflict for a taken one", async () => {
    const slug = page.getByLabel("Slug", { exact: true });
    await slug.fill("alice"); // alice's personal organization has it
    await page.getByRole("button", { name: "Change slug" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Slug not changed" });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/409.*taken/s);
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
    await check("overview", /^Overview/);
  });

  it("works on a phone-sized screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await heading("Overview").waitFor();
    await check("overview-phone", /^Overview/);
    await page.setViewportSize({ width: 1280, height: 860 });
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
    await page.getByLabel("GitHub repository (owner/name)").fill("miyabi-demo/webapp");
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByRole("cell", { name: "miyabi-demo/webapp", exact: true }).waitFor();
    await nav("Launch agent").click();
    await heading("Launch an agent").waitFor();
    await page.getByLabel("Repository", { exact: true }).selectOption({ label: "miyabi-demo/webapp" });
    await page.getByLabel("Issue number").fill("3");
    await page.getByLabel("Agent type").selectOption("review");
    await page.getByRole("button", { name: "Launch", exact: true }).click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.locator(".details .badge").textContent()).toBe("pending");
    await page.getByRole("button", { name: "Cancel execution" }).click();
    await expect.poll(() => page.locator(".details .badge").textContent()).toBe("cancelled");
    expect(await page.getByRole("button", { name: "Cancel execution" }).count()).toBe(0);
    await check("execution-cancelled", /^Execution/);
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
    await page.getByLabel("GitHub login").fill("bob");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
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
    expect(await page.getByLabel("GitHub repository (owner/name)").count()).toBe(0);
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
    await page.getByLabel("GitHub login").fill("alice");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
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
    await expect.poll(() => bob.locator(".badge").textContent()).toBe("suspended");
    await bob.getByRole("button", { name: "Reactivate bob" }).click();
    await expect.poll(() => bob.locator(".badge").textContent()).toBe("active");
    await check("settings-members", /^Organization/);
  });

  it("raised no uncaught page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
