// Webhook fan-out and latency (issue 8): deliveries per second from one station to 10 ordered
// endpoints on 10 receivers, and the time from a produce request to its delivery (p50/p99) to one
// receiver and to each of 10. Receivers on 127.0.0.1 answer 204 at once; the sender's clock and
// the receivers' are the same machine's. Each run deletes its station afterwards.
import { createServer } from "node:http";
import { request, requestJson } from "../lib/http.mjs";
import { makeBody, produceRequestJson } from "../lib/payload.mjs";
import { sleep } from "../lib/processes.mjs";
import { epochMs } from "../lib/strace.mjs";
import { createStation } from "./waystation-api.mjs";

export const FANOUT_ENDPOINTS = 10;

/** A receiver counting distinct deliveries (by webhook-id) and timing those that carry `sentAtMs`. */
async function startReceiver() {
  const seen = new Set();
  const latenciesMs = [];
  const server = createServer((req, res) => {
    const id = req.headers["webhook-id"];
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const at = epochMs();
      res.writeHead(204).end();
      if (typeof id !== "string" || seen.has(id)) return;
      seen.add(id);
      const sentAtMs = JSON.parse(Buffer.concat(chunks).toString("utf8"))?.body?.sentAtMs;
      if (sentAtMs !== undefined) latenciesMs.push(at - sentAtMs);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    received: () => seen.size,
    latenciesMs,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A station with `receivers.length` ordered endpoints, one per receiver. */
async function setUp(worker, station, receivers) {
  await createStation(worker, station);
  for (const [i, receiver] of receivers.entries()) {
    await requestJson("PUT", `${worker.url}/v1/stations/${station}/webhooks/bench-${i}`, {
      json: { url: receiver.url },
      token: worker.token,
      expectStatus: 201,
    });
  }
}

async function withReceivers(count, worker, station, work) {
  const receivers = await Promise.all(Array.from({ length: count }, () => startReceiver()));
  try {
    await setUp(worker, station, receivers);
    return await work(receivers);
  } finally {
    await request("DELETE", `${worker.url}/v1/stations/${station}`, { token: worker.token });
    await Promise.all(receivers.map((r) => r.close()));
  }
}

/**
 * Produces `webhookMessages / 10` messages in batches of 100 and times until every receiver has
 * them all: `webhookMessages` deliveries in all, as many as the single-endpoint figures make.
 */
async function measureFanOut(worker, station, profile) {
  return withReceivers(FANOUT_ENDPOINTS, worker, station, async (receivers) => {
    const count = Math.max(1, Math.ceil(profile.webhookMessages / FANOUT_ENDPOINTS));
    const t0 = performance.now();
    for (let seq = 1; seq <= count; seq += 100) {
      const n = Math.min(100, count - seq + 1);
      await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: JSON.parse(produceRequestJson("fan", seq, n)), token: worker.token });
    }
    const total = () => receivers.reduce((sum, r) => sum + r.received(), 0);
    const deadline = t0 + profile.maxMs * 10;
    while (total() < count * receivers.length && performance.now() < deadline) await sleep(2);
    const elapsedMs = performance.now() - t0;
    const delivered = total();
    if (delivered === 0) throw new Error(`no webhook delivery arrived in ${Math.round(elapsedMs)} ms`);
    return { ops: delivered, messages: delivered, elapsedMs, latenciesMs: [], perSecond: (delivered / elapsedMs) * 1000 };
  });
}

/**
 * One message at a time: produce it (stamped with the send time) and wait until every receiver
 * has it before the next, so the figure is latency, not queueing. One sample per receiver.
 */
async function measureLatency(worker, station, profile, receiverCount) {
  return withReceivers(receiverCount, worker, station, async (receivers) => {
    const t0 = performance.now();
    // Message 1 is a warm-up (no sentAtMs): it makes sure every endpoint is in place before timing.
    for (let seq = 1; seq <= profile.latencySamples + 1 && performance.now() - t0 < profile.maxMs * 4; seq++) {
      const body = { producer: "lat", messages: [{ seq, body: seq === 1 ? makeBody(seq) : makeBody(seq, epochMs()) }] };
      await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: body, token: worker.token });
      const waitUntil = Date.now() + 10_000;
      while (receivers.some((r) => r.received() < seq) && Date.now() < waitUntil) await sleep(0.5);
      if (receivers.some((r) => r.received() < seq)) throw new Error(`seq ${seq} did not reach every receiver within 10 s`);
    }
    const latenciesMs = receivers.flatMap((r) => r.latenciesMs);
    return { ops: latenciesMs.length, messages: latenciesMs.length, elapsedMs: performance.now() - t0, latenciesMs, perSecond: NaN };
  });
}

export function webhookFanOutMeasurements(worker, profile) {
  return [
    { id: "waystation.webhooks.fanout10", run: (round) => measureFanOut(worker, `bench-hooks-fan-r${round}`, profile) },
    { id: "waystation.webhooks.e2e", run: (round) => measureLatency(worker, `bench-hooks-lat-r${round}`, profile, 1) },
    { id: "waystation.webhooks.e2e.fanout10", run: (round) => measureLatency(worker, `bench-hooks-latfan-r${round}`, profile, FANOUT_ENDPOINTS) },
  ];
}
