// The fsync check: each system runs under `strace -f -e trace=fsync,fdatasync,…`, takes
// `writes` acknowledged writes one at a time, and we count the writes during which a sync call
// completed, i.e. whether an acknowledgement waited for the disk. Used by run.mjs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fdPath, judgeSyncs, parseSyncCalls } from "./lib/strace.mjs";
import { ceilingSyncProbe, startCeiling } from "./suites/ceiling.mjs";
import { natsSyncProbe, startNats } from "./suites/nats.mjs";
import { startWaystation, waystationSyncProbe } from "./suites/waystation.mjs";

const SYSTEMS = {
  waystation: [startWaystation, waystationSyncProbe],
  ceiling: [startCeiling, ceilingSyncProbe],
  nats: [startNats, natsSyncProbe],
};

export function straceAvailable() {
  try {
    execFileSync("strace", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** @returns {Promise<Record<string, object>>} per system: writes, synced, callsByKind, files */
export async function checkFsync({ systems = Object.keys(SYSTEMS), writes = 20, log = console.error } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "waystation-bench-strace-"));
  const verdicts = {};
  try {
    for (const system of systems) {
      const [start, probe] = SYSTEMS[system];
      const straceOut = join(dir, `${system}.strace`);
      log(`fsync check: ${system} under strace…`);
      let runtime;
      try {
        runtime = await start({ straceOut });
        await probe(runtime, 3, "warmup"); // opening files, first transactions
        const acks = await probe(runtime, writes, "probe");
        // Which file each call synced (fds are long-lived; read them while the process lives).
        // Wrangler's own trace store (local observability) is not the system's data.
        const calls = parseSyncCalls(straceOut)
          .map((c) => ({ ...c, path: c.fd === null ? null : fdPath(c.pid, c.fd) }))
          .filter((c) => !c.path?.includes("/observability/"));
        const verdict = judgeSyncs(calls, acks);
        const files = new Set();
        for (const c of calls) {
          if (c.endMs < acks[0].sentMs || c.endMs > acks.at(-1).ackedMs || !c.path) continue;
          files.add(c.path.replace(/^.*?\/(waystation-bench-[^/]+)\//, "<$1>/").replace(/[0-9a-f]{32,}/g, "<id>"));
        }
        verdicts[system] = { ...verdict, files: [...files].slice(0, 6) };
      } catch (error) {
        verdicts[system] = { error: String(error?.message ?? error).split("\n")[0] };
      } finally {
        await runtime?.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return verdicts;
}
