// The SDK side in real Chromium on Waystation's own origin: enqueue() (one action at a time,
// each committed to IndexedDB with durability `strict` before it resolves) beside a bare
// IndexedDB put of the same record in the same page and run, then the drain of the queued
// actions once the network is back. Chromium comes from test/browser-launch.mjs.
import { launchChromium } from "../../browser-launch.mjs";
import { createStation } from "./waystation-api.mjs";

/** Runs in the page. */
async function enqueueBesideIdbThenDrain({ token, station, count, maxMs }) {
  const { createClient } = await import("/waystation.js");
  const body = (i) => ({ i, todo: "buy milk and eggs", done: false, at: 1_795_300_000_000 + i });

  // Bare IndexedDB (no wrapper): one strict readwrite transaction per record, the floor any
  // durable outbox pays per action.
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open(`bench-bare-${station}`, 1);
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
    dbName: `bench-${station}`,
    locks: null,
    fetch: (...args) => (online ? fetch(...args) : Promise.reject(new TypeError("offline (benchmark)"))),
  });
  const target = client.station(station);
  const t1 = performance.now();
  for (let i = 1; i <= count; i++) await target.enqueue(body(i));
  const enqueueMs = performance.now() - t1;
  online = true;
  const t2 = performance.now();
  let status = await client.flush();
  while (status.pending > 0 && performance.now() - t2 < maxMs) status = await client.flush();
  const drainMs = performance.now() - t2;
  await client.close();
  return { bareMs, enqueueMs, drainMs, pending: status.pending, error: status.error ?? null };
}

export function outboxMeasurements(worker, profile) {
  let browser = null;
  return [
    {
      id: "waystation.outbox",
      workload: "outbox",
      run: async (round) => {
        browser ??= await launchChromium();
        const station = `bench-outbox-r${round}-${Date.now().toString(36)}`;
        await createStation(worker, station);
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(`${worker.url}/healthz`);
          const count = profile.outboxActions;
          const r = await page.evaluate(enqueueBesideIdbThenDrain, { token: worker.token, station, count, maxMs: 120_000 });
          if (r.pending > 0) throw new Error(`outbox still holds ${r.pending} of ${count} actions after ${Math.round(r.drainMs)} ms: ${JSON.stringify(r.error)}`);
          const perSecond = (ms) => (count / ms) * 1000;
          return {
            ops: count,
            messages: count,
            elapsedMs: r.drainMs,
            latenciesMs: [],
            perSecond: perSecond(r.drainMs),
            extras: { enqueuePerSecond: perSecond(r.enqueueMs), idbPutPerSecond: perSecond(r.bareMs), drainMs: r.drainMs },
          };
        } finally {
          await context.close();
        }
      },
      async close() {
        await browser?.close();
      },
    },
  ];
}
