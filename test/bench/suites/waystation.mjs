// Waystation under `wrangler dev`: the shared HTTP workloads (produce, read, hello world),
// consumer groups over HTTP and the WebSocket, webhook deliveries, partitioned stations, and the
// SDK in Chromium.
import { request, requestJson } from "../lib/http.mjs";
import { produceRequestJson } from "../lib/payload.mjs";
import { epochMs } from "../lib/strace.mjs";
import { snapshotWaystation } from "../lib/snapshot.mjs";
import { startWranglerDev } from "../lib/wrangler-dev.mjs";
import { httpMeasurements } from "./http-workloads.mjs";
import { createStation, waystationAdapter } from "./waystation-api.mjs";
import { groupMeasurements } from "./waystation-groups.mjs";
import { outboxMeasurements } from "./waystation-outbox.mjs";
import { partitionMeasurements } from "./waystation-partitions.mjs";
import { webhookMeasurements } from "./waystation-webhooks.mjs";

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

/** Every Waystation measurement of one round of the benchmark. */
export async function waystationMeasurements(worker, profile) {
  const measurements = [
    ...httpMeasurements("waystation", waystationAdapter(worker), profile),
    ...groupMeasurements(worker, profile),
    ...webhookMeasurements(worker, profile),
    ...(await partitionMeasurements(worker, profile)),
  ];
  if (profile.outboxActions > 0 && (await request("GET", `${worker.url}/waystation.js`)).status === 200) {
    measurements.push(...outboxMeasurements(worker, profile));
  }
  return measurements;
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
