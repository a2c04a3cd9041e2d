// Cloudflare Queues as wrangler dev runs them (test/bench/queues/): sendBatch throughput for
// the same batch sizes, how fast the local consumer drains it, and send→consume latency.
import { join } from "node:path";
import { measureHttpProduce } from "../lib/http-produce.mjs";
import { request, requestJson } from "../lib/http.mjs";
import { queueBatchJson } from "../lib/payload.mjs";
import { sleep } from "../lib/processes.mjs";
import { epochMs } from "../lib/strace.mjs";
import { ROOT, startWranglerDev } from "../lib/wrangler-dev.mjs";

const QUEUE_SHAPES = [
  { batch: 1, concurrency: 4 },
  { batch: 10, concurrency: 4 },
  { batch: 100, concurrency: 4 },
];

export function startQueues(options = {}) {
  return startWranglerDev({ name: "queues", config: join(ROOT, "test/bench/queues/wrangler.toml"), ...options });
}

async function stats(worker) {
  return requestJson("GET", `${worker.url}/stats`);
}

/** Waits until the consumer counted `count` messages; returns when, or throws after `maxMs`. */
async function waitConsumed(worker, count, maxMs) {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const { consumed } = await stats(worker);
    if (consumed >= count) return performance.now();
    if (performance.now() > deadline) throw new Error(`queue consumer got ${consumed} of ${count} in ${maxMs} ms`);
    await sleep(5);
  }
}

export function queuesMeasurements(worker, profile) {
  const measurements = QUEUE_SHAPES.map(({ batch, concurrency }) => ({
    id: `queues.send.b${batch}.c${concurrency}`,
    run: async () => {
      await requestJson("POST", `${worker.url}/reset`);
      const t0 = performance.now();
      const result = await measureHttpProduce({
        url: `${worker.url}/send`,
        batch,
        concurrency,
        maxMs: profile.maxMs,
        maxMessages: profile.maxMessages,
        makeBody: (_producer, firstSeq, count) => queueBatchJson(firstSeq, count),
        check: (answer, count) => {
          if (answer?.sent !== count) throw new Error(`unexpected send answer: ${JSON.stringify(answer)}`);
        },
      });
      const drainedAt = await waitConsumed(worker, result.messages, 60_000);
      return { ...result, extras: { consumedPerSecond: (result.messages / (drainedAt - t0)) * 1000 } };
    },
  }));
  measurements.push({
    id: "queues.e2e",
    run: async () => {
      await requestJson("POST", `${worker.url}/reset`);
      const t0 = performance.now();
      let sent = 0;
      while (sent < profile.latencySamples && performance.now() - t0 < profile.maxMs * 4) {
        const res = await request("POST", `${worker.url}/send`, { body: queueBatchJson(sent + 1, 1, epochMs()) });
        if (res.status !== 200) throw new Error(`queue send: ${res.status} ${res.text}`);
        sent += 1;
        await waitConsumed(worker, sent, 10_000);
      }
      const { latenciesMs } = await stats(worker);
      return { ops: sent, messages: sent, elapsedMs: performance.now() - t0, latenciesMs, perSecond: NaN };
    },
  });
  return measurements;
}

export async function queuesSyncProbe(worker, count) {
  const writes = [];
  for (let seq = 1; seq <= count; seq++) {
    const sentMs = epochMs();
    const res = await request("POST", `${worker.url}/send`, { body: queueBatchJson(seq, 1) });
    if (res.status !== 200) throw new Error(`queue send: ${res.status} ${res.text}`);
    writes.push({ sentMs, ackedMs: epochMs() });
  }
  return writes;
}
