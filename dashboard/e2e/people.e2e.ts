// People on runs and invitations, as a user notices them: an owner cancels a workflow run
// from its page and sees who cancelled it; an invited person opens the link and reads who
// invited them, to which organization and as what; a dead link says so and offers nothing
// to accept. The data is made through the API (the development login), the checks in the page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { callApi, devLogin, signInAs, startBrowserStack, type BrowserStack, type Stack } from "./stack";
import { axeCheck, screenshot } from "./browser";
import { hasRoute } from "./api-routes";

let env: BrowserStack;
let stack: Stack;
let page: Page;
let pageErrors: string[] = [];
let dialogs: string[] = [];

beforeAll(async () => {
  env = await startBrowserStack();
  ({ stack, page, pageErrors, dialogs } = env);
});

afterAll(async () => {
  await env?.close();
});

async function signOut() {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in/);
}

async function accessible(name: string) {
  await expect.poll(() => page.locator("p.loading").count(), { timeout: 15_000 }).toBe(0);
  const violations = await axeCheck(page);
  expect(violations, `axe on ${name}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  await screenshot(page, name);
}

const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });

describe.skipIf(!hasRoute("post", "/workflow-runs/{id}/cancel"))("cancelling a workflow run", () => {
  it("cancels an unfinished run from its page and shows who cancelled it", async () => {
    await signInAs(page, "alice");
    const alice = await devLogin(stack, "alice");
    const agents = await callApi<{ items: { type: string }[] | null }>(stack, alice.access_token, "GET", "/agents");
    const type = agents.items?.[0]?.type ?? "codegen";
    const wf = await callApi<{ id: string }>(stack, alice.access_token, "POST", "/workflows", {
      name: "Cancel me",
      definition: { nodes: [{ id: "a", name: "First", agent_type: type }, { id: "b", name: "Second", agent_type: type }], edges: [{ from: "a", to: "b" }] },
    });
    // No worker runs in this stack: the run waits, unfinished, until it is cancelled.
    const run = await callApi<{ id: string; status: string }>(stack, alice.access_token, "POST", `/workflows/${wf.id}/run`, {});
    expect(["pending", "running"]).toContain(run.status);

    await page.goto(`/workflow-runs/${run.id}`);
    await heading("Run of Cancel me").waitFor();
    const status = page.locator("p.row > .badge").first();
    await page.getByRole("button", { name: "Cancel run" }).click();
    expect(dialogs.at(-1)).toMatch(/^Cancel this run of Cancel me\?/);
    await expect.poll(() => status.textContent()).toBe("cancelled");
    await page.getByText(/^Cancelled by @alice · /).waitFor();
    // Ended: nothing left to cancel, and it can be run again.
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    await page.getByRole("button", { name: "Re-run" }).waitFor();
    await accessible("workflow-run-cancelled");
    // Each node's execution was cancelled with it, by the same person.
    await page.getByRole("link", { name: "Logs of First" }).click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    await page.getByText(/^Cancelled by @alice · /).waitFor();
    await page.getByText(/^alice · /).waitFor(); // launched by
    await accessible("execution-cancelled");

    // Cancelling a run that ended meanwhile is said in words (the API answers 409).
    const again = await callApi<{ id: string }>(stack, alice.access_token, "POST", `/workflows/${wf.id}/run`, {});
    await page.goto(`/workflow-runs/${again.id}`);
    await page.getByRole("button", { name: "Cancel run" }).waitFor();
    // It fails while the page still offers to cancel it (no live event: triggers are off for this statement).
    stack.sql(`SET session_replication_role = replica; UPDATE workflow_runs SET status = 'failed', completed_at = now() WHERE id = '${again.id}'`);
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByText("The run had already finished, so there was nothing left to cancel.").waitFor();
    await signOut();
  });
});

describe.skipIf(!hasRoute("post", "/invitations/lookup"))("an invitation link", () => {
  it("replaces an earlier invitation, and the invited person reads who invited them, where to and as what", async () => {
    await signInAs(page, "alice");
    const alice = await devLogin(stack, "alice");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Organization", exact: true }).click();
    await heading("Organization").waitFor();
    const invite = async () => {
      await page.getByLabel("GitHub login", { exact: true }).fill("bob");
      await page.getByLabel("Role", { exact: true }).selectOption("member");
      await page.getByRole("button", { name: "Invite" }).click();
      await expect.poll(async () => ((await page.locator(".secret").textContent()) ?? "").trim()).toMatch(/\/invitations\/[^/]+$/);
    };
    await invite();
    const first = ((await page.locator(".secret").textContent()) ?? "").trim();
    expect(await page.getByText(/was replaced/).count()).toBe(0);
    await invite();
    await expect.poll(async () => ((await page.locator(".secret").textContent()) ?? "").trim()).not.toBe(first);
    await page.getByText("The earlier invitation to @bob was replaced; its link no longer works.").waitFor();
    const link = ((await page.locator(".secret").textContent()) ?? "").trim();
    await signOut();

    await signInAs(page, "bob");
    await page.goto(new URL(link).pathname);
    await heading("Invitation").waitFor();
    await page.getByText(`@alice invited you to join ${alice.organization.name} as member.`).waitFor();
    await page.getByText("For the GitHub account @bob.").waitFor();
    await page.getByText(/^Expires /).waitFor();
    await accessible("invitation-preview");

    // The replaced link is dead, and says so.
    await page.goto(new URL(first).pathname);
    await heading("Invitation").waitFor();
    await page.getByText("This invitation link is no longer valid (used, revoked or expired).").waitFor();
    expect(await page.getByRole("button", { name: "Accept invitation" }).count()).toBe(0);

    await page.goto(new URL(link).pathname);
    await page.getByRole("button", { name: "Accept invitation" }).click();
    // Joined, the dashboard switches to the organization.
    await heading("Overview").waitFor();
    const switcher = page.getByRole("combobox", { name: "Organization" });
    await expect.poll(async () => (await switcher.locator("option:checked").textContent()) ?? "").toContain(`${alice.organization.name} (member)`);
    await signOut();
  });

  it("warns when the link was sent to another account", async () => {
    const alice = await devLogin(stack, "alice");
    const created = await callApi<{ token: string }>(stack, alice.access_token, "POST", `/organizations/${alice.organization.id}/invitations`, { github_login: "carol", role: "viewer" });
    await signInAs(page, "bob");
    await page.goto(`/invitations/${encodeURIComponent(created.token)}`);
    await page.getByText(`@alice invited you to join ${alice.organization.name} as viewer.`).waitFor();
    await page.getByText("This invitation is for @carol; sign in as that account.").waitFor();
    expect(await page.getByRole("button", { name: "Accept invitation" }).count()).toBe(0);
  });

  it("says an unknown link is no longer valid and offers nothing to accept", async () => {
    await page.goto("/invitations/not-a-real-invitation-token");
    await heading("Invitation").waitFor();
    await page.getByText("This invitation link is no longer valid (used, revoked or expired).").waitFor();
    expect(await page.getByRole("button", { name: "Accept invitation" }).count()).toBe(0);
    await accessible("invitation-invalid");
  });

  it("raised no uncaught page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
