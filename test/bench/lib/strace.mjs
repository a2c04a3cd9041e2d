// Reads `strace -f -ttt` output for the sync system calls, and decides for each acknowledged
// write whether a sync call completed between its request and its acknowledgement.
import { readFileSync, readlinkSync } from "node:fs";

/** The calls that make written data durable on Linux. */
export const SYNC_SYSCALLS = ["fsync", "fdatasync", "sync_file_range", "syncfs", "msync"];

/** Wall-clock milliseconds with sub-millisecond precision, comparable with strace -ttt. */
export function epochMs() {
  return performance.timeOrigin + performance.now();
}

/**
 * Parses lines such as `123 1700000000.123456 fdatasync(7) = 0`, including calls split by
 * `-f` into `<unfinished ...>` and `<... fdatasync resumed>`. Times are when the call returned.
 * @returns {{pid: number, call: string, fd: number | null, endMs: number}[]}
 */
export function parseSyncCalls(file) {
  const unfinished = new Map();
  const calls = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const atMs = Number(m[2]) * 1000;
    const rest = m[3];
    const start = /^(\w+)\((\d+)?/.exec(rest);
    if (start && SYNC_SYSCALLS.includes(start[1])) {
      const fd = start[2] === undefined ? null : Number(start[2]);
      if (rest.includes("<unfinished ...>")) unfinished.set(`${pid}:${start[1]}`, fd);
      else calls.push({ pid, call: start[1], fd, endMs: atMs });
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>/.exec(rest);
    if (resumed && SYNC_SYSCALLS.includes(resumed[1])) {
      const key = `${pid}:${resumed[1]}`;
      calls.push({ pid, call: resumed[1], fd: unfinished.get(key) ?? null, endMs: atMs });
      unfinished.delete(key);
    }
  }
  return calls;
}

/** The file an fd of a live process points at, or null. */
export function fdPath(pid, fd) {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * For each write `{sentMs, ackedMs}`: was a sync call completed inside its window?
 * @returns {{writes: number, synced: number, syncCalls: number, callsByKind: Record<string, number>}}
 */
export function judgeSyncs(calls, writes) {
  const inWindow = calls.filter((c) => writes.length > 0 && c.endMs >= writes[0].sentMs && c.endMs <= writes.at(-1).ackedMs);
  let synced = 0;
  for (const w of writes) {
    if (inWindow.some((c) => c.endMs >= w.sentMs && c.endMs <= w.ackedMs)) synced += 1;
  }
  const callsByKind = {};
  for (const c of inWindow) callsByKind[c.call] = (callsByKind[c.call] ?? 0) + 1;
  return { writes: writes.length, synced, syncCalls: inWindow.length, callsByKind };
}
