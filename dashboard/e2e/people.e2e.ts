// People on runs and invitations, as a user notices them: an owner cancels a workflow run
// from its page and sees who cancelled it; an invited person opens the link and reads who
// invited them, to which organization and as what; a dead link says so and offers nothing
// to accept. In an organization larger than a page: the invitations and a team's members
// page (each invitation naming its inviter, whoever they are), a member is found by name
// to join a team, and the audit log's dates are read in the zone the user chose. The data
// is made through the API (the development login) and SQL, the checks in the page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { callApi, devLogin, signInAs, startBrowserStack, type BrowserStack, type DevSession, type Stack } from "./stack";
import { axeCheck, screenshot } from "./browser";
import { hasRoute } from "./api-routes";

let env: BrowserStack;
let stack: Stack;
let page: Page;
let pageErrors: string[] = [];
let dialogs: string[] = [];

beforeAll(async () => {
  env = await startBrowserStack({ timezoneId: "Asia/Tokyo" });
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

describe.skipIf(!hasRoute("get", "/organizations/{id}/invitations"))("a large organization", () => {
  let alice: DevSession;
  let org = "";
  const pad = (n: number) => String(n).padStart(2, "0");

  beforeAll(async () => {
    alice = await devLogin(stack, "alice");
    org = alice.organization.id;
    // More people than one page of anything: 130 members straight into the database.
    stack.sql(`UPDATE organizations SET max_members = 1000 WHERE id = '${org}';
      INSERT INTO users (github_id, login, name)
        SELECT 990000000 + g, 'user-' || lpad(g::text, 3, '0'), CASE WHEN g = 130 THEN 'Hanako Yamada' ELSE 'Person ' || g END
        FROM generate_series(1, 130) g;
      INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
        SELECT '${org}', id, 'member', 'active', now() FROM users WHERE login LIKE 'user-___'`);
    await env.context.clearCookies(); // whoever the last test left signed in
    await signInAs(page, "alice");
  });

  it("pages the invitations, and warns of a pending invitation on another page", async () => {
    for (let i = 1; i <= 25; i++) {
      await callApi(stack, alice.access_token, "POST", `/organizations/${org}/invitations`, { github_login: `guest-${pad(i)}`, role: "member" });
    }
    // An inviter beyond the first hundred members (owners first, then by login): user-130.
    stack.sql(`UPDATE invitations SET invited_by = (SELECT id FROM users WHERE login = 'user-130')
      WHERE organization_id = '${org}' AND github_login = 'guest-25' AND status = 'pending'`);
    await page.goto("/settings");
    await heading("Organization").waitFor();
    const invitations = page.getByRole("region", { name: "Invitations" });
    await invitations.getByRole("cell", { name: "guest-25", exact: true }).waitFor(); // newest first
    // Each row names its inviter by login, from the invitation itself.
    const row = (login: string) => invitations.getByRole("row", { name: new RegExp(`^${login} `) });
    await row("guest-25").getByRole("cell", { name: "user-130", exact: true }).waitFor();
    await row("guest-24").getByRole("cell", { name: "alice", exact: true }).waitFor();
    expect(await invitations.getByRole("cell", { name: "guest-01", exact: true }).count()).toBe(0);
    const pager = page.getByRole("navigation", { name: "Pagination: Invitations" });
    await pager.getByText(/^Page 1 of 2 · \d+ in all$/).waitFor();
    await pager.getByRole("button", { name: "Next" }).click();
    await invitations.getByRole("cell", { name: "guest-01", exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get("invitations.page")).toBe("2");
    await pager.getByRole("button", { name: "Previous" }).click();
    await invitations.getByRole("cell", { name: "guest-25", exact: true }).waitFor();
    // guest-01 is not on this page: inviting them again still warns that their link would die.
    await page.getByLabel("GitHub login", { exact: true }).fill("Guest-01");
    await page.getByText("guest-01 already has a pending invitation").waitFor();
    await page.getByLabel("GitHub login", { exact: true }).fill("");
  });

  it("finds a member to add to a team among more than a hundred, and pages the team's members", async () => {
    const team = await callApi<{ id: string }>(stack, alice.access_token, "POST", `/organizations/${org}/teams`, { name: "Platform" });
    await page.reload();
    const teams = page.getByRole("region", { name: "Teams" });
    await teams.getByRole("button", { name: "Members of Platform" }).click();
    const found = page.locator(`#tm-found-${team.id}`);
    await expect.poll(() => found.textContent()).toMatch(/^50 of 13\d active members shown: type to narrow\.$/);
    const find = page.getByLabel("Find a member (login or name)");
    const pick = page.getByLabel("Add member", { exact: true });
    // user-130 comes after the first hundred (owners first, then by login): found by name.
    expect(await pick.locator("option", { hasText: "user-130" }).count()).toBe(0);
    await find.fill("yamada");
    await expect.poll(() => found.textContent()).toBe("1 active member to choose from.");
    await expect.poll(() => pick.locator("option").allTextContents()).toEqual(["Choose…", "user-130 (Hanako Yamada)"]);
    await pick.selectOption({ label: "user-130 (Hanako Yamada)" });
    await page.getByLabel("Team role").selectOption("lead");
    await teams.getByRole("button", { name: "Add", exact: true }).click();
    const members = page.getByRole("table", { name: "Members of Platform" });
    await members.getByRole("row", { name: /user-130 Hanako Yamada lead/ }).waitFor();
    await teams.getByText("1 member", { exact: true }).waitFor(); // the team's count follows
    // By login, anywhere in it.
    await find.fill("USER-12");
    await expect.poll(() => found.textContent()).toBe("10 active members to choose from.");
    expect(await pick.locator("option").count()).toBe(11);
    await accessible("team-member-picker");

    // The team's members page like every list, and the open team and its page are a link.
    const ids = stack.sql("SELECT id FROM users WHERE login BETWEEN 'user-001' AND 'user-021' ORDER BY login").trim().split("\n");
    for (const id of ids) await callApi(stack, alice.access_token, "POST", `/organizations/${org}/teams/${team.id}/members`, { user_id: id });
    await page.reload();
    const pager = page.getByRole("navigation", { name: "Pagination: Members of Platform" });
    await pager.getByText("Page 1 of 2 · 22 in all").waitFor();
    await pager.getByRole("button", { name: "Next" }).click();
    await members.getByRole("row", { name: /^user-021 / }).waitFor(); // the lead first, then by login
    const url = new URL(page.url());
    expect(url.searchParams.get("teams.open")).toBe(team.id);
    expect(url.searchParams.get("team-members.page")).toBe("2");
    await members.getByRole("button", { name: "Remove user-021 from the team" }).click();
    await pager.getByText("Page 2 of 2 · 21 in all").waitFor();
    await teams.getByText("21 members", { exact: true }).waitFor();
  });
});

describe.skipIf(!hasRoute("get", "/organizations/{id}/audit-events"))("the audit log's dates", () => {
  it("reads From and Until in the zone times are shown in: the browser's (Tokyo), or UTC", async () => {
    let last = "";
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.endsWith("/audit-events")) last = r.url();
    });
    const sent = (name: string) => new URL(last || "http://x/").searchParams.get(name);
    const hour = 3_600_000;
    const hourAgo = Math.floor(Date.now() / 60_000) * 60_000 - hour;
    /** The wall time of an instant at a UTC offset, as a date-and-time input takes it. */
    const wall = (t: number, offsetHours: number) => new Date(t + offsetHours * hour).toISOString().slice(0, 16);
    const rows = page.getByRole("table", { name: "Audit log" }).getByRole("row");
    const nothing = page.getByText("Nothing recorded for these filters.");
    const filter = page.getByRole("button", { name: "Filter", exact: true });

    await page.goto("/settings/audit");
    await heading("Audit log").waitFor();
    await page.getByLabel("Until (Asia/Tokyo)").waitFor();
    // An hour ago on Tokyo's clock: what happened since is listed; the API got that instant.
    await page.getByLabel("From (Asia/Tokyo)").fill(wall(hourAgo, 9));
    await filter.click();
    await expect.poll(() => sent("since")).toBe(new Date(hourAgo).toISOString());
    await rows.nth(1).waitFor();
    // In UTC the same clock time is nine hours later, still ahead: nothing yet.
    await page.getByRole("combobox", { name: "Time zone" }).selectOption("utc");
    await page.getByLabel("Until (UTC)").waitFor();
    await expect.poll(() => sent("since")).toBe(new Date(hourAgo + 9 * hour).toISOString());
    await nothing.waitFor();
    // An hour ago on the UTC clock lists them again; until then, nothing (the stack is younger).
    await page.getByLabel("From (UTC)").fill(wall(hourAgo, 0));
    await filter.click();
    await expect.poll(() => sent("since")).toBe(new Date(hourAgo).toISOString());
    await rows.nth(1).waitFor();
    await accessible("audit-log-utc");
    await page.getByLabel("From (UTC)").fill("");
    await page.getByLabel("Until (UTC)").fill(wall(hourAgo, 0));
    await filter.click();
    await expect.poll(() => sent("until")).toBe(new Date(hourAgo).toISOString());
    expect(sent("since")).toBeNull();
    await nothing.waitFor();
    await page.getByRole("combobox", { name: "Time zone" }).selectOption("local");
    await page.getByLabel("Until (Asia/Tokyo)").waitFor();
  });

  it("raised no uncaught page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
