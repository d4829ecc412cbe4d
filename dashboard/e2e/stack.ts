// Starts the real stack for the end-to-end run: a fresh database on the throwaway cluster,
// the API built from this checkout serving dashboard/dist, the fake GitHub, and (when the
// test asks) the local worker. Everything it starts it stops by PID; the database is dropped.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launch } from "./browser";

export const repoRoot = resolve(import.meta.dirname, "../..");
const dashboardDir = resolve(import.meta.dirname, "..");
const logDir = join(dashboardDir, "test-results", "logs");

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

function psqlPath(): string {
  for (const v of readdirSync("/usr/lib/postgresql").sort().reverse()) {
    const p = `/usr/lib/postgresql/${v}/bin/psql`;
    if (existsSync(p)) return p;
  }
  return "psql";
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Stack {
  apiURL: string;
  githubURL: string;
  databaseURL: string;
  /** Starts the local worker daemon with a worker token (when app/worker exists). */
  startWorker: (token: string) => Promise<boolean>;
  /** Runs SQL on the test's database (what a test cannot do through the API: end a session). */
  sql: (query: string) => string;
  stop: () => Promise<void>;
}

export async function startStack(): Promise<Stack> {
  mkdirSync(logDir, { recursive: true });
  const children: ChildProcess[] = [];
  const bin = join(tmpdir(), `miyabi-e2e-${process.pid}`);
  mkdirSync(bin, { recursive: true });

  const pgPort = process.env.MIYABI_PG_PORT ?? "54329";
  execFileSync(join(repoRoot, "scripts/pg.sh"), ["start"], { stdio: ["ignore", "ignore", "inherit"] });
  const dbName = `miyabi_e2e_${randomBytes(4).toString("hex")}`;
  const admin = `postgres://postgres@127.0.0.1:${pgPort}/postgres?sslmode=disable`;
  const psql = (sql: string) => execFileSync(psqlPath(), [admin, "-v", "ON_ERROR_STOP=1", "-qc", sql], { stdio: "pipe" });
  psql(`CREATE DATABASE ${dbName}`);
  const databaseURL = `postgres://postgres@127.0.0.1:${pgPort}/${dbName}?sslmode=disable`;

  const build = (out: string, pkg: string) =>
    execFileSync("go", ["build", "-o", join(bin, out), pkg], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
  build("miyabi", "./app");
  build("fakegithub", "./app/fakegithub");
  const haveWorker = existsSync(join(repoRoot, "app/worker")) && existsSync(join(repoRoot, "app/demoagent"));
  if (haveWorker) {
    build("worker", "./app/worker");
    build("demoagent", "./app/demoagent");
  }

  const [apiPort, ghPort] = [await freePort(), await freePort()];
  const apiURL = `http://127.0.0.1:${apiPort}`;
  const githubURL = `http://127.0.0.1:${ghPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    APP_ENV: "development",
    DATABASE_URL: databaseURL,
    LISTEN_ADDR: `127.0.0.1:${apiPort}`,
    PUBLIC_URL: apiURL,
    GITHUB_OAUTH_URL: githubURL,
    GITHUB_API_URL: githubURL,
    DASHBOARD_DIR: join(dashboardDir, "dist"),
    SWEEP_INTERVAL: "2s",
  };

  const run = (name: string, file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const log = createWriteStream(join(logDir, `${name}.log`));
    const child = spawn(join(bin, file), args, { cwd: repoRoot, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
    return child;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.pid) {
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null) c.kill("SIGKILL");
      }
    }
    try {
      psql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    } catch (err) {
      console.error(`could not drop ${dbName}:`, err);
    }
    rmSync(bin, { recursive: true, force: true });
  };

  try {
    execFileSync(join(bin, "miyabi"), ["migrate"], { cwd: repoRoot, env, stdio: ["ignore", "ignore", "inherit"] });
    // the fake sends the GitHub App's signed webhooks to this API
    run("fakegithub", "fakegithub", ["-addr", `127.0.0.1:${ghPort}`, "-webhook-url", `${apiURL}/api/v1/github/webhook`]);
    run("api", "miyabi", ["serve"]);
    await waitFor("the API", async () => (await fetch(`${apiURL}/api/v1/health`)).ok);
    await waitFor("the fake GitHub", async () => (await fetch(githubURL)).status < 500);
  } catch (err) {
    await stop();
    throw err;
  }

  const startWorker = async (token: string): Promise<boolean> => {
    if (!haveWorker) return false;
    // As scripts/dev-worker.sh runs it: the demo agent, quick steps, short polls.
    run(
      "worker",
      "worker",
      ["--concurrency", "2", "--lease", "30s", "--poll", "500ms", "--command",
        `${join(bin, "demoagent")} {agent_type} --issue {issue_number} --repository {repository} --step-delay 300ms`],
      { MIYABI_API_URL: `${apiURL}/api/v1`, MIYABI_WORKER_TOKEN: token },
    );
    return true;
  };

  const sql = (query: string) =>
    execFileSync(psqlPath(), [databaseURL, "-v", "ON_ERROR_STOP=1", "-qAtc", query], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  return { apiURL, githubURL, databaseURL, startWorker, sql, stop };
}

/** A stack with a browser on it: one page, and what the page said that a test checks. */
export interface BrowserStack {
  stack: Stack;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Uncaught errors the page raised. */
  pageErrors: string[];
  /** Every confirm() the dashboard asked, in order (each is accepted). */
  dialogs: string[];
  /** Closes the browser and stops the stack (for afterAll). */
  close: () => Promise<void>;
}

/**
 * startBrowserStack starts the stack and Chromium on it, with one page at the API's origin
 * (1280×860, the given time zone), collecting page errors and accepting every dialog.
 */
export async function startBrowserStack(opts: { timezoneId?: string; clipboard?: boolean } = {}): Promise<BrowserStack> {
  const stack = await startStack();
  let browser: Browser | undefined;
  try {
    browser = await launch();
    const context = await browser.newContext({ baseURL: stack.apiURL, viewport: { width: 1280, height: 860 }, timezoneId: opts.timezoneId });
    if (opts.clipboard) await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.apiURL });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    const dialogs: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    const b = browser;
    const close = async () => {
      await context.close().catch(() => {});
      await b.close().catch(() => {});
      await stack.stop();
    };
    return { stack, browser, context, page, pageErrors, dialogs, close };
  } catch (err) {
    await browser?.close().catch(() => {});
    await stack.stop();
    throw err;
  }
}

/** signIn uses the development login on the sign-in page the browser is on, and waits to leave it. */
export async function signIn(page: Page, login: string): Promise<void> {
  await page.getByLabel("GitHub login").fill(login);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((u) => new URL(u).pathname !== "/sign-in");
}

/** signInAs opens the sign-in page and signs in there as login (the development login). */
export async function signInAs(page: Page, login: string): Promise<void> {
  await page.goto("/sign-in");
  await signIn(page, login);
}

/** What the development login answers: the access token and the active organization. */
export interface DevSession {
  access_token: string;
  organization: { id: string; name: string };
}

/** devLogin signs in through the API (the development login), for data a test sets up. */
export async function devLogin(stack: Stack, login: string): Promise<DevSession> {
  const res = await fetch(`${stack.apiURL}/api/v1/auth/dev-login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ login }),
  });
  if (!res.ok) throw new Error(`dev-login ${login}: ${res.status} ${await res.text()}`);
  return (await res.json()) as DevSession;
}

/** callApi calls the API (/api/v1 + path) with a token from devLogin; a non-2xx answer throws. */
export async function callApi<T>(stack: Stack, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.apiURL}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
