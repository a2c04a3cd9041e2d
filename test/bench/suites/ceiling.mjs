// The ceiling: the bare SQLite Durable Object of test/bench/ceiling/ under `wrangler dev`, fed
// the same produce requests as Waystation (same shapes, same bytes, same client).
import { join } from "node:path";
import { checkProduceAnswer, measureHttpProduce } from "../lib/http-produce.mjs";
import { request } from "../lib/http.mjs";
import { runClosedLoop } from "../lib/closed-loop.mjs";
import { produceRequestJson } from "../lib/payload.mjs";
import { epochMs } from "../lib/strace.mjs";
import { ROOT, startWranglerDev } from "../lib/wrangler-dev.mjs";
import { PRODUCE_SHAPES } from "./waystation.mjs";

export function startCeiling(options = {}) {
  return startWranglerDev({ name: "ceiling", config: join(ROOT, "test/bench/ceiling/wrangler.toml"), ...options });
}

export function ceilingMeasurements(worker, profile) {
  const measurements = PRODUCE_SHAPES.map(({ batch, concurrency }) => ({
    id: `ceiling.produce.b${batch}.c${concurrency}`,
    run: (round) =>
      measureHttpProduce({
        url: `${worker.url}/append/bench-b${batch}-c${concurrency}-r${round}`,
        batch,
        concurrency,
        maxMs: profile.maxMs,
        maxMessages: profile.maxMessages,
        makeBody: produceRequestJson,
        check: checkProduceAnswer,
      }),
  }));
  measurements.push({
    id: "ceiling.hello",
    run: () =>
      runClosedLoop({
        concurrency: 1,
        maxOps: profile.latencySamples * 5,
        maxMs: profile.maxMs,
        op: async () => {
          const res = await request("GET", `${worker.url}/healthz`);
          if (res.status !== 200) throw new Error(`GET /healthz: ${res.status}`);
          return 1;
        },
      }),
  });
  return measurements;
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
