// Waystation webhook deliveries per second to a receiver on 127.0.0.1 that answers 204 at once:
// an ordered endpoint (the default: one delivery in flight, in offset order) and an unordered one
// (6 in flight). The station is deleted after each run so no delivery outlives its measurement.
import { createServer } from "node:http";
import { request, requestJson } from "../lib/http.mjs";
import { produceRequestJson } from "../lib/payload.mjs";
import { sleep } from "../lib/processes.mjs";
import { createStation } from "./waystation-api.mjs";

/** A webhook receiver counting distinct deliveries (by `webhook-id`: retries count once). */
async function startReceiver() {
  const seen = new Set();
  const server = createServer((req, res) => {
    const id = req.headers["webhook-id"];
    req.resume();
    req.on("end", () => {
      if (typeof id === "string") seen.add(id);
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    received: () => seen.size,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function measureDeliveries(worker, station, profile, endpoint) {
  const receiver = await startReceiver();
  try {
    await createStation(worker, station);
    await requestJson("PUT", `${worker.url}/v1/stations/${station}/webhooks/bench`, { json: { url: receiver.url, ...endpoint }, token: worker.token, expectStatus: 201 });
    const count = profile.webhookMessages;
    const t0 = performance.now();
    for (let seq = 1; seq <= count; seq += 100) {
      const n = Math.min(100, count - seq + 1);
      await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: JSON.parse(produceRequestJson("hooks", seq, n)), token: worker.token });
    }
    const deadline = t0 + profile.seconds * 3000;
    while (receiver.received() < count && performance.now() < deadline) await sleep(2);
    const elapsedMs = performance.now() - t0;
    const delivered = receiver.received();
    if (delivered === 0) throw new Error(`no webhook delivery arrived in ${Math.round(elapsedMs)} ms`);
    return { ops: delivered, messages: delivered, elapsedMs, latenciesMs: [], perSecond: (delivered / elapsedMs) * 1000 };
  } finally {
    await request("DELETE", `${worker.url}/v1/stations/${station}`, { token: worker.token });
    await receiver.close();
  }
}

export function webhookMeasurements(worker, profile) {
  return [
    { id: "waystation.webhooks.ordered", workload: "webhooks.ordered", run: (round) => measureDeliveries(worker, `bench-hooks-o-r${round}`, profile, {}) },
    { id: "waystation.webhooks.unordered", workload: "webhooks.unordered", run: (round) => measureDeliveries(worker, `bench-hooks-u-r${round}`, profile, { ordered: false, maxInFlight: 6 }) },
  ];
}
