// The outbox benchmark of the SDK issue, in Chromium against wrangler dev (a measurement, not a
// test): enqueue() rate beside a bare idb put of the same records with the same durability
// (one strict transaction each), measured in the same page and run; enqueue() again in bursts
// of 100 concurrent calls (group commit); then the time to drain the queued actions to a local
// station. Usage: node test/bench/sdk-outbox-vs-idb.mjs [actions=10000]
import { launchChromium } from "../browser-launch.mjs";
import { createStation } from "./suites/waystation-api.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const count = Number(process.argv[2] ?? 10_000);

/** Runs in the page. */
async function measure({ token, station, count }) {
  const { createClient } = await import("/waystation.js");
  const body = (i) => ({ i, todo: "buy milk and eggs", done: false, at: 1_795_300_000_000 + i });

  // Bare IndexedDB (no idb wrapper even): the floor any durable outbox pays per action.
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("bench-bare", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "seq" });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    await new Promise((resolve, reject) => {
      const tx = db.transaction("outbox", "readwrite", { durability: "strict" });
      tx.objectStore("outbox").put({ seq: i, body: JSON.stringify(body(i)), enqueuedAt: Date.now() });
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }
  const bareMs = performance.now() - t0;
  db.close();

  let online = false;
  const client = createClient({
    url: location.origin,
    token,
    dbName: "bench-sdk",
    maxBatchMessages: 1000,
    fetch: (...args) => (online ? fetch(...args) : Promise.reject(new TypeError("offline (benchmark)"))),
  });
  const target = client.station(station);
  const t1 = performance.now();
  for (let i = 1; i <= count; i++) await target.enqueue(body(i));
  const enqueueMs = performance.now() - t1;

  // The same number in bursts of 100 concurrent enqueues (a tab's group commit), into an outbox
  // of its own that stays offline, so the drain below is of the first `count` only.
  const bursts = createClient({ url: location.origin, token, dbName: "bench-sdk-bursts", fetch: () => Promise.reject(new TypeError("offline (benchmark)")) });
  const burstTarget = bursts.station(station);
  const t3 = performance.now();
  for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) => burstTarget.enqueue(body(i + k))));
  const burstMs = performance.now() - t3;
  await bursts.close();

  online = true;
  const t2 = performance.now();
  let status = await client.flush();
  while (status.pending > 0 && performance.now() - t2 < 300_000) status = await client.flush();
  const drainMs = performance.now() - t2;
  await client.close();
  return { bareMs, enqueueMs, burstMs, drainMs, pending: status.pending };
}

const worker = await startWranglerDev({ name: "sdk-outbox" });
const browser = await launchChromium();
try {
  await createStation(worker, "bench-sdk");
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${worker.url}/healthz`);
  const r = await page.evaluate(measure, { token: worker.token, station: "bench-sdk", count });
  const perSecond = (ms) => Math.round((count / ms) * 1000);
  console.log(
    JSON.stringify(
      {
        actions: count,
        bareIdbPutPerSecond: perSecond(r.bareMs),
        enqueuePerSecond: perSecond(r.enqueueMs),
        enqueueToBareRatio: Number((r.bareMs / r.enqueueMs).toFixed(2)),
        enqueueInBurstsOf100PerSecond: perSecond(r.burstMs),
        drainMs: Math.round(r.drainMs),
        drainPerSecond: perSecond(r.drainMs),
        leftPending: r.pending,
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await worker.stop();
}
