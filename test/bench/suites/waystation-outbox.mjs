// The browser outbox in real Chromium against Waystation's own origin: enqueue N actions while
// offline (each committed to IndexedDB before enqueue() resolves), then go online and time
// until every one is acknowledged by the station (the drain).
import { launchChromium } from "../../browser-launch.mjs";
import { createStation } from "./waystation-api.mjs";

/** Runs in the page: the SDK from the worker's own assets, with a switchable network. */
async function enqueueThenDrain({ token, station, count, maxMs }) {
  const { createClient } = await import("/waystation.js");
  let online = false;
  const client = createClient({
    url: location.origin,
    token,
    dbName: `bench-${station}`,
    locks: null,
    fetch: (...args) => (online ? fetch(...args) : Promise.reject(new TypeError("offline (benchmark)"))),
  });
  const target = client.station(station);
  const pad = "x".repeat(170);
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) await target.enqueue({ i, pad });
  const enqueueMs = performance.now() - t0;
  online = true;
  const t1 = performance.now();
  let status = await client.flush();
  while (status.pending > 0 && performance.now() - t1 < maxMs) status = await client.flush();
  const drainMs = performance.now() - t1;
  await client.close();
  return { enqueueMs, drainMs, pending: status.pending, error: status.error ?? null };
}

export function outboxMeasurements(worker, profile) {
  let browser = null;
  return [
    {
      id: "waystation.outbox",
      maxRuns: 3, // 10,000 IndexedDB commits take a while
      run: async (round) => {
        browser ??= await launchChromium();
        const station = `bench-outbox-r${round}-${Date.now() % 100_000}`;
        await createStation(worker, station);
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(`${worker.url}/healthz`);
          const count = profile.outboxActions;
          const r = await page.evaluate(enqueueThenDrain, { token: worker.token, station, count, maxMs: 120_000 });
          if (r.pending > 0) throw new Error(`outbox still holds ${r.pending} of ${count} actions after ${Math.round(r.drainMs)} ms: ${JSON.stringify(r.error)}`);
          return { ops: count, messages: count, elapsedMs: r.drainMs, latenciesMs: [], perSecond: (count / r.drainMs) * 1000, extras: { enqueuePerSecond: (count / r.enqueueMs) * 1000, drainMs: r.drainMs } };
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
