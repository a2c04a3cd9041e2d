// Waystation under `wrangler dev`: produce (batches of 1, 10, 100), hello-world latency, and
// (when the consumer-group routes exist) fetch(100)+ack and produce→consume latency.
import { checkProduceAnswer, measureHttpProduce } from "../lib/http-produce.mjs";
import { request, requestJson } from "../lib/http.mjs";
import { runClosedLoop } from "../lib/closed-loop.mjs";
import { produceRequestJson } from "../lib/payload.mjs";
import { epochMs } from "../lib/strace.mjs";
import { snapshotWaystation } from "../lib/snapshot.mjs";
import { startWranglerDev } from "../lib/wrangler-dev.mjs";
import { createStation } from "./waystation-api.mjs";
import { groupMeasurements, groupsAvailable } from "./waystation-groups.mjs";
import { outboxMeasurements } from "./waystation-outbox.mjs";
import { webhookMeasurements } from "./waystation-webhooks.mjs";
import { webhookFanOutMeasurements } from "./waystation-webhooks-fanout.mjs";
import { schemaMeasurements } from "./waystation-schemas.mjs";

export const PRODUCE_SHAPES = [
  { batch: 1, concurrency: 1 },
  { batch: 1, concurrency: 4 },
  { batch: 10, concurrency: 4 },
  { batch: 100, concurrency: 4 },
];

/**
 * Waystation as bundled by the deploy dry run (see lib/snapshot.mjs), under wrangler dev.
 * `runtime.code` says which commit it was, and how many files of worker/ and shared/ differed.
 */
export async function startWaystation(options = {}) {
  const snapshot = await snapshotWaystation();
  try {
    const runtime = await startWranglerDev({
      name: "waystation",
      config: snapshot.config,
      extraArgs: ["--no-bundle"],
      vars: { WEBHOOK_ALLOW_PRIVATE: "1" }, // the webhook receiver is on 127.0.0.1
      ...options,
    });
    const stop = runtime.stop;
    return {
      ...runtime,
      code: { commit: snapshot.commit, dirtyFiles: snapshot.dirtyFiles },
      bundlePath: snapshot.bundle,
      async stop() {
        await stop();
        snapshot.remove();
      },
    };
  } catch (error) {
    snapshot.remove();
    throw error;
  }
}

/** Every Waystation measurement of one run of the benchmark. */
export async function waystationMeasurements(worker, profile) {
  const measurements = PRODUCE_SHAPES.map(({ batch, concurrency }) => ({
    id: `waystation.produce.b${batch}.c${concurrency}`,
    run: async (round) => {
      const station = `bench-b${batch}-c${concurrency}-r${round}`;
      await createStation(worker, station);
      return measureHttpProduce({
        url: `${worker.url}/v1/stations/${station}/messages`,
        token: worker.token,
        batch,
        concurrency,
        maxMs: profile.maxMs,
        maxMessages: profile.maxMessages,
        makeBody: produceRequestJson,
        check: checkProduceAnswer,
      });
    },
  }));
  measurements.push({
    id: "waystation.hello",
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
  if (await groupsAvailable(worker)) measurements.push(...groupMeasurements(worker, profile));
  measurements.push(...schemaMeasurements(worker, profile));
  if (await routeExists(worker, "PUT", "/v1/stations/no-such-station/webhooks/w")) {
    measurements.push(...webhookMeasurements(worker, profile), ...webhookFanOutMeasurements(worker, profile));
  }
  if (profile.outboxActions > 0 && (await request("GET", `${worker.url}/waystation.js`)).status === 200) {
    measurements.push(...outboxMeasurements(worker, profile));
  }
  return measurements;
}

/** A route that is not there answers 404 with code `not_found`; anything else means it is. */
async function routeExists(worker, method, path) {
  const res = await request(method, `${worker.url}${path}`, { body: "{}", token: worker.token });
  return !(res.status === 404 && JSON.parse(res.text)?.error?.code === "not_found");
}

/** `count` acknowledged single-message produces, one at a time, for the fsync check. */
export async function waystationSyncProbe(worker, count, tag) {
  const station = `fsync-${tag}`;
  await createStation(worker, station);
  const writes = [];
  for (let seq = 1; seq <= count; seq++) {
    const sentMs = epochMs();
    await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: JSON.parse(produceRequestJson(tag, seq, 1)), token: worker.token });
    writes.push({ sentMs, ackedMs: epochMs() });
  }
  return writes;
}
