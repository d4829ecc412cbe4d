// Time to first render of the overview in headless Chromium against the real stack
// (bench/dashboard/run.sh). Two moments per load, both from navigation start:
//   shell: the Overview heading is on screen (session restored through the refresh cookie)
//   data:  the summary cards, the chart and the recent executions are all drawn
// Cold: a new browser context per load (empty cache, cookie carried over); warm: reloads.
import { afterAll, beforeAll, it } from "vitest";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { startStack, type Stack } from "../e2e/stack";
import { launch } from "../e2e/browser";
import { measureSizes } from "./sizes";

const runs = Number(process.env.BENCH_RUNS ?? "15");
const out = process.env.BENCH_OUT ?? resolve(import.meta.dirname, "../test-results/bench-dashboard.md");

let stack: Stack;
let browser: Browser;
let coldState: Awaited<ReturnType<BrowserContext["storageState"]>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
});

// Marks the two moments from inside the page; an init script is not subject to the page's CSP.
const marker = () => {
  const w = window as unknown as { __marks: Record<string, number> };
  w.__marks = {};
  const look = () => {
    const h = document.querySelector("h1#page-title");
    if (!w.__marks.shell && h?.textContent === "Overview") w.__marks.shell = performance.now();
    if (
      !w.__marks.data &&
      document.querySelector(".cards .card") &&
      document.querySelector(".chart svg rect") &&
      document.querySelector('table caption, .empty')
    )
      w.__marks.data = performance.now();
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true, characterData: true });
};

async function signedInContext(state?: Awaited<ReturnType<BrowserContext["storageState"]>>) {
  const ctx = await browser.newContext({ baseURL: stack.apiURL, viewport: { width: 1280, height: 860 }, storageState: state });
  await ctx.addInitScript(marker);
  return ctx;
}

async function load(ctx: BrowserContext, reload: boolean): Promise<{ shell: number; data: number }> {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  if (reload) await page.reload();
  else await page.goto("/");
  await page.waitForFunction(() => (window as unknown as { __marks: { data?: number } }).__marks.data, null, { timeout: 30_000 });
  return page.evaluate(() => (window as unknown as { __marks: { shell: number; data: number } }).__marks);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const kb = (x: number) => `${(x / 1024).toFixed(1)} kB`;

it("measures the overview", async () => {
  // Sign in and give the overview something to draw: a repository and queued executions.
  const setup = await signedInContext();
  const login = await setup.request.post("/api/v1/auth/dev-login", { data: { login: "alice" } });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const auth = { Authorization: `Bearer ${token}` };
  const repo = (await (
    await setup.request.post("/api/v1/repositories", { headers: auth, data: { full_name: "miyabi-demo/agent-playground" } })
  ).json()) as { id: string };
  for (let i = 1; i <= 20; i++) {
    await setup.request.post("/api/v1/agents/execute", {
      headers: auth,
      data: { repository_id: repo.id, issue_number: i, agent_type: i % 2 ? "codegen" : "review" },
    });
  }
  const state = await setup.storageState();
  await setup.close();

  const cold = { shell: [] as number[], data: [] as number[] };
  for (let i = 0; i < runs; i++) {
    // storageState carries the refresh cookie; the refresh rotates it, so carry the new one on.
    const ctx = await signedInContext(i === 0 ? state : coldState);
    const m = await load(ctx, false);
    coldState = await ctx.storageState();
    await ctx.close();
    cold.shell.push(m.shell);
    cold.data.push(m.data);
  }
  const warm = { shell: [] as number[], data: [] as number[] };
  const ctx = await signedInContext(coldState);
  await load(ctx, false);
  for (let i = 0; i < runs; i++) {
    const m = await load(ctx, true);
    warm.shell.push(m.shell);
    warm.data.push(m.data);
  }
  await ctx.close();

  const sizes = measureSizes(resolve(import.meta.dirname, "../dist"));
  const lines = [
    `| measure | value |`,
    `|---|---|`,
    `| initial JS of the first route (gzip -9) | **${kb(sizes.initialJs.gzip)}** (${kb(sizes.initialJs.raw)} raw; ${sizes.initialJs.files.length} file${sizes.initialJs.files.length === 1 ? "" : "s"}); budget 150 kB |`,
    `| CSS (gzip -9) | ${kb(sizes.css.gzip)} (${kb(sizes.css.raw)} raw) |`,
    `| all JS, every route (gzip -9) | ${kb(sizes.allJs.gzip)} in ${sizes.allJs.files} files |`,
    `| overview shell, cold (median / p90 of ${runs}) | ${ms(pct(cold.shell, 50))} / ${ms(pct(cold.shell, 90))} |`,
    `| overview with data, cold (median / p90) | ${ms(pct(cold.data, 50))} / ${ms(pct(cold.data, 90))} |`,
    `| overview shell, warm reload (median / p90) | ${ms(pct(warm.shell, 50))} / ${ms(pct(warm.shell, 90))} |`,
    `| overview with data, warm reload (median / p90) | ${ms(pct(warm.data, 50))} / ${ms(pct(warm.data, 90))} |`,
  ];
  writeFileSync(out, lines.join("\n") + "\n");
});
