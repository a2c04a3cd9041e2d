// The ceiling: the bare SQLite Durable Object and bare Worker of test/bench/ceiling/ under
// `wrangler dev`, fed the same requests as Waystation (same shapes, same bytes, same load).
import { join } from "node:path";
import { request } from "../lib/http.mjs";
import { produceRequestJson } from "../lib/payload.mjs";
import { epochMs } from "../lib/strace.mjs";
import { ROOT, startWranglerDev } from "../lib/wrangler-dev.mjs";
import { httpMeasurements } from "./http-workloads.mjs";

export function startCeiling(options = {}) {
  return startWranglerDev({ name: "ceiling", config: join(ROOT, "test/bench/ceiling/wrangler.toml"), ...options });
}

/** The ceiling's routes: one object per name, created by its first write. */
export function ceilingAdapter(worker) {
  return {
    url: worker.url,
    createStation: async () => {},
    producePath: (station) => `/append/${station}`,
    readPath: (station, from, limit) => `/read/${station}?from=${from}&limit=${limit}`,
  };
}

export async function ceilingMeasurements(worker, profile) {
  return httpMeasurements("ceiling", ceilingAdapter(worker), profile);
}

export async function ceilingSyncProbe(worker, count, tag) {
  const writes = [];
  for (let seq = 1; seq <= count; seq++) {
    const sentMs = epochMs();
    const res = await request("POST", `${worker.url}/append/fsync-${tag}`, { body: produceRequestJson(tag, seq, 1) });
    if (res.status !== 200) throw new Error(`ceiling append: ${res.status} ${res.text}`);
    writes.push({ sentMs, ackedMs: epochMs() });
  }
  return writes;
}
