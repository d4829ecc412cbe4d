// Notifications, as an organization owner meets them: add a webhook channel (its signing
// secret shown once), send a test message, see it delivered in the channel's log, and
// check on the receiving end that the signature verifies with that secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { startStack, type Stack } from "./stack";
import { axeCheck, launch, screenshot } from "./browser";
import { hasRoute } from "./api-routes";

let stack: Stack;
let browser: Browser;
let page: Page;
let receiver: Server;
let receiverURL = "";
const got: { body: Buffer; signature: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ body: Buffer.concat(chunks), signature: String(req.headers["x-miyabi-signature-256"] ?? "") });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  const addr = receiver.address();
  receiverURL = `http://127.0.0.1:${addr && typeof addr === "object" ? addr.port : 0}/hooks/miyabi`;
  stack = await startStack();
  browser = await launch();
  page = await (await browser.newContext({ baseURL: stack.apiURL, viewport: { width: 1280, height: 860 } })).newPage();
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
  receiver?.close();
});

describe.skipIf(!hasRoute("post", "/organizations/{id}/notification-channels"))("notifications", () => {
  it("adds a webhook channel and shows its signing secret once", async () => {
    await page.goto("/sign-in");
    await page.getByLabel("GitHub login").fill("alice");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => new URL(u).pathname === "/");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Notifications" }).waitFor();
    await page.getByLabel("Channel name").fill("Ops webhook");
    await page.getByLabel("Webhook URL (https)").fill(receiverURL);
    await page.getByRole("button", { name: "Add channel" }).click();
    await expect.poll(() => page.getByTestId("signing-secret").textContent()).toMatch(/^mwhsec_[0-9a-f]{64}$/);
    const violations = await axeCheck(page);
    expect(violations, JSON.stringify(violations, null, 1)).toEqual([]);
    await screenshot(page, "notifications-created");
  });

  it("sends a test message and sees it delivered in the log", async () => {
    const secret = (await page.getByTestId("signing-secret").textContent()) ?? "";
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByRole("button", { name: "Deliveries of Ops webhook" }).click();
    await page.getByRole("button", { name: "Send a test message to Ops webhook" }).click();
    const row = page.getByTestId("delivery").first();
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toMatch(/^test\s*delivered\s*1\s*200/);
    expect(got).toHaveLength(1);
    const [first] = got;
    if (!first) throw new Error("the receiver got nothing");
    const want = "sha256=" + createHmac("sha256", secret).update(first.body).digest("hex");
    expect(timingSafeEqual(Buffer.from(want), Buffer.from(first.signature))).toBe(true);
    expect(JSON.parse(first.body.toString()).text).toContain('the channel "Ops webhook" works');
    await screenshot(page, "notifications-delivered");
  });
});
