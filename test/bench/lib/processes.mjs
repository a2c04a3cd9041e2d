// Processes the benchmark starts: free ports, process-group signals and the peak memory
// (VmHWM, the kernel's resident high-water mark) of every process in a group.
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends `signal` to the whole process group led by `child` (it must be spawned detached). */
export function signalGroup(child, signal) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Pids whose process group is `pgid` (Linux /proc). */
export function groupPids(pgid) {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name, which may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Peak and current resident memory of one process, in KiB, with its command name. */
export function processMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?";
    return { pid, name, peakKiB: field("VmHWM"), rssKiB: field("VmRSS") };
  } catch {
    return null;
  }
}

/**
 * Peak memory of a process group, per command name (summed over processes of that name).
 * Read it before stopping the group: VmHWM lives as long as the process does.
 */
export function groupMemory(pgid) {
  const byName = {};
  for (const pid of groupPids(pgid)) {
    const mem = processMemory(pid);
    if (!mem || mem.peakKiB === 0) continue;
    byName[mem.name] = (byName[mem.name] ?? 0) + mem.peakKiB;
  }
  return byName;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux for decades). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, all threads) used so far by the live processes of a group, in ms,
 * by role: `runtime` (the workerd that runs the Worker, the one with an inspector, or
 * nats-server), `proxy` (wrangler dev's second workerd, its ProxyWorker in front), `wrangler`
 * (node) and `other` (esbuild…). Unlike wall-clock rates, CPU time hardly moves when other work
 * shares the machine.
 */
export function groupCpuMs(pgid) {
  const byRole = { runtime: 0, proxy: 0, wrangler: 0, other: 0 };
  for (const pid of groupPids(pgid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime + stime
      byRole[roleOf(readFileSync(`/proc/${pid}/cmdline`, "utf8"))] += ms;
    } catch {
      // exited meanwhile
    }
  }
  return byRole;
}

function roleOf(cmdline) {
  if (cmdline.includes("nats-server")) return "runtime";
  if (cmdline.includes("workerd")) return cmdline.includes("--inspector-addr") ? "runtime" : "proxy";
  if (cmdline.includes("wrangler")) return "wrangler";
  return "other";
}

/** `after - before`, role by role. */
export function cpuDelta(before, after) {
  return Object.fromEntries(Object.keys(after).map((role) => [role, after[role] - (before[role] ?? 0)]));
}
