// Starts a Worker under `wrangler dev` (workerd) on 127.0.0.1 and a free port, with its own
// state directory: the same way test/e2e/wrangler-dev.ts does, in plain .mjs so `node` runs it.
// Optionally under `strace` (for the fsync check). stop() ends the whole process group.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, groupCpuMs, groupMemory, signalGroup, sleep } from "./processes.mjs";
import { SYNC_SYSCALLS } from "./strace.mjs";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

/**
 * Local observability (on by default in wrangler dev) writes a trace of every request to a SQLite
 * store and fsyncs it: a dev-only cost that deployed Workers do not pay, so it is off here unless
 * `observability` is set (`npm run bench -- --observability` measures with it).
 * @param {{config?: string, name: string, vars?: Record<string,string>, straceOut?: string,
 *   observability?: boolean, extraArgs?: string[]}} options
 */
export async function startWranglerDev(options) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), `waystation-bench-${options.name}-`));
  // WEBHOOK_SECRET_KEY: without it webhook PUT answers 503 (secrets are sealed at rest).
  const vars = { ADMIN_TOKEN: BENCH_ADMIN_TOKEN, WEBHOOK_SECRET_KEY: "bench-webhook-secret-key-0123456789abcdefghij", ...options.vars };
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
  const args = [
    "dev",
    "--port", String(port),
    "--ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", stateDir,
    "--show-interactive-dev-session=false",
    "--log-level", "error",
    ...(options.config ? ["--config", options.config] : []),
    ...(options.extraArgs ?? []),
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const [command, argv] = options.straceOut
    ? ["strace", ["-f", "-ttt", "-e", `trace=${SYNC_SYSCALLS.join(",")}`, "-o", options.straceOut, wrangler, ...args]]
    : [wrangler, args];
  const child = spawn(command, argv, {
    cwd: ROOT,
    detached: true, // own process group: stop() reaches workerd too, memory is read per group
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
      X_LOCAL_OBSERVABILITY: (options.observability ?? process.env.BENCH_OBSERVABILITY === "1") ? "true" : "false",
    },
  });
  let log = "";
  const keep = (chunk) => {
    log = (log + chunk).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, () => log);
  return {
    name: options.name,
    url,
    port,
    token: vars.ADMIN_TOKEN,
    stateDir,
    pid: child.pid,
    output: () => log,
    /** Peak resident memory per process name (KiB) of wrangler, workerd and helpers. */
    memory: () => groupMemory(child.pid),
    /** CPU ms used so far by wrangler, both workerd processes and helpers. */
    cpuMs: () => groupCpuMs(child.pid),
    async stop() {
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function waitForHealth(url, child, output) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  signalGroup(child, "SIGKILL");
  throw new Error(`wrangler dev did not become healthy in 120 s:\n${output()}`);
}
