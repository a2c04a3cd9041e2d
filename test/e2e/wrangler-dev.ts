// Starts the real Worker under `wrangler dev` (workerd, SQLite Durable Objects) on a free
// port with its own state directory, for end-to-end tests and benchmarks. `kill()` sends
// SIGKILL to the whole process group (wrangler and workerd): the crash tests' "pull the plug".
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const E2E_ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
/** Seals webhook secrets at rest; without it webhook PUT answers 503 not_configured. */
export const E2E_WEBHOOK_SECRET_KEY = "e2e-webhook-secret-key-0123456789abcdefghij";

export interface WorkerOptions {
  /** State directory to persist to; a fresh temporary one by default. Reuse it to restart. */
  stateDir?: string;
  port?: number;
  vars?: Record<string, string>;
  /** Wrangler config; the project's own by default (bench uses others). */
  config?: string;
}

export interface RunningWorker {
  url: string;
  port: number;
  token: string;
  stateDir: string;
  /** Output of wrangler and workerd so far, for failure messages. */
  output(): string;
  /** Graceful stop (SIGTERM), waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL to wrangler and workerd at once: nothing gets to flush. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), "waystation-state-"));
}

export async function startWorker(options: WorkerOptions = {}): Promise<RunningWorker> {
  const port = options.port ?? (await freePort());
  const stateDir = options.stateDir ?? tempStateDir();
  const vars = { ADMIN_TOKEN: E2E_ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_SECRET_KEY: E2E_WEBHOOK_SECRET_KEY, ...options.vars };
  const args = [
    "dev",
    "--port", String(port),
    "--ip", "127.0.0.1",
    "--persist-to", stateDir,
    "--show-interactive-dev-session=false",
    "--log-level", "warn",
    ...(options.config ? ["--config", options.config] : []),
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = spawn(join(ROOT, "node_modules", ".bin", "wrangler"), args, {
    cwd: ROOT,
    detached: true, // own process group, so kill() reaches workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: { WAYSTATION_SKIP_BUILD: "1", ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  let log = "";
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, () => log);
  return {
    url,
    port,
    token: vars.ADMIN_TOKEN,
    stateDir,
    output: () => log,
    stop: async () => {
      signalGroup(child, "SIGTERM");
      await Promise.race([exited, sleep(10_000).then(() => signalGroup(child, "SIGKILL"))]);
      await exited;
    },
    kill: async () => {
      signalGroup(child, "SIGKILL");
      await exited;
    },
  };
}

export function removeStateDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  signalGroup(child, "SIGKILL");
  throw new Error(`wrangler dev did not become healthy in 90 s:\n${output()}`);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A tiny HTTP client for the Waystation API with the worker's admin token. */
export function apiClient(worker: Pick<RunningWorker, "url" | "token">) {
  return async function call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(`${worker.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${worker.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}
