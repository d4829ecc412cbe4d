// Starts the real stack for the end-to-end run: a fresh database on the throwaway cluster,
// the API built from this checkout serving dashboard/dist, the fake GitHub, and (when the
// test asks) the local worker. Everything it starts it stops by PID; the database is dropped.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

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
