// Sync with no tab open, in Chromium against wrangler dev: the demo page registers the service
// worker (/waystation-sw.js, served by the worker), actions are enqueued while the browser is
// offline, every tab is closed, the browser goes online, and the service worker alone delivers
// each action to the station once. Its own record (IndexedDB `waystation-sw`) says which events drove it.
// A second test fires the Background Sync `sync` event itself, through DevTools (headless Chromium
// does not schedule it), with no tab of the origin open and nothing else waking the worker.
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createStation, enqueueRange, openSdkPage, readStation, startClient, useWorkerAndBrowser, waitUntil } from "./sdk-browser";
import { apiClient, type RunningWorker, sleep } from "./wrangler-dev";

interface RunRecord {
  trigger: string;
  triggers: string[];
  at: number;
  acked: number;
  pending: number;
  locked: boolean;
  error?: { code: string };
}

/** Reads a store of the service worker's own database (same origin) from a page. */
function readRegistry<T>(page: Page, store: string): Promise<T[]> {
  return page.evaluate(
    (store) =>
      new Promise<T[]>((resolve, reject) => {
        const open = indexedDB.open("waystation-sw");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction(store).objectStore(store).getAll();
          get.onsuccess = () => {
            open.result.close();
            resolve(get.result as T[]);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    store,
  );
}

describe("sync service worker", () => {
  let worker: RunningWorker;
  let browser: Browser;
  useWorkerAndBrowser((w, b) => ([worker, browser] = [w, b]));

  it("delivers actions enqueued offline once every tab is closed and the browser is back online, each once", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`${worker.url}/#token=${worker.token}`);
    await page.waitForSelector("#app:not([hidden])");
    await page.waitForSelector('#sw-status[data-state="registered"]');
    await waitUntil(async () => (await apiClient(worker)("GET", "/v1/stations/todos")).status === 200, "the demo to create its station");
    // Headless Chromium (a Playwright context, persistent or not) answers "Background Sync is
    // disabled": what this test proves is the fallback — the worker, woken by the page's
    // message while actions were pending, waits for the tabs' lock and syncs after they close.
    const backgroundSync = await page.evaluate(async () => {
      const sync = (await navigator.serviceWorker.ready as unknown as { sync?: { getTags(): Promise<string[]> } }).sync;
      return sync ? sync.getTags().then(() => "enabled", (e: unknown) => String(e)) : "missing";
    });
    console.log(`Background Sync in this Chromium: ${backgroundSync}`);

    await context.setOffline(true);
    const texts = ["one", "two", "three", "four", "five"];
    for (const text of texts) {
      await page.fill("#add-input", text);
      await page.click("#add-form button[type=submit]");
    }
    await waitUntil(async () => (await page.$$("#todos li .badge.pending")).length === texts.length, "five pending todos");
    await sleep(2500); // the page asks for a sync of its pending actions at most every 2 s
    expect(errors).toEqual([]);

    await page.close(); // the only tab: from here on only the service worker can sync
    expect(context.pages()).toHaveLength(0);
    const closedAt = Date.now();
    await sleep(3000);
    expect(await readStation(worker, "todos")).toHaveLength(0); // still offline, for the service worker too

    await context.setOffline(false);
    await waitUntil(async () => (await readStation(worker, "todos")).length >= texts.length, "the service worker to deliver the todos", 90_000);
    await sleep(1000); // nothing more arrives
    const stored = await readStation(worker, "todos");
    expect(stored.map((m) => (m.body as unknown as { text: string }).text)).toEqual(texts);
    expect(new Set(stored.map((m) => `${m.producer}:${m.seq}`)).size).toBe(texts.length);

    // A page with no client (not the demo) reads what the worker did.
    const reader = await context.newPage();
    await reader.goto(`${worker.url}/healthz`);
    const runs = await readRegistry<RunRecord>(reader, "runs");
    console.log(`service worker runs: ${JSON.stringify(runs.map(({ trigger, triggers, acked, pending, locked, error }) => ({ trigger, triggers, acked, pending, locked, error: error?.code })))}`);
    const delivering = runs.filter((r) => r.acked > 0);
    expect(delivering.reduce((sum, r) => sum + r.acked, 0)).toBe(texts.length);
    for (const run of delivering) expect(run).toMatchObject({ locked: true }); // under the tabs' lock
    expect(delivering.every((r) => r.at > closedAt)).toBe(true); // after the last tab was gone
    // It held the lock and tried while offline with no tab, then delivered once online.
    expect(runs.some((r) => r.locked && r.at > closedAt && r.pending === texts.length && r.error?.code === "network_error")).toBe(true);
    expect(delivering.at(-1)!.pending).toBe(0);
    const triggers = new Set(delivering.flatMap((r) => r.triggers));
    expect(backgroundSync === "enabled" ? triggers.has("sync") || triggers.has("message") : triggers.has("message")).toBe(true);
    await context.close();
  });

  it("delivers on a Background Sync event with no tab of the origin open, each action once, in order", async () => {
    const context = await browser.newContext();
    await createStation(worker, "sw-sync");
    const page = await openSdkPage(context, worker, { fromWorker: true });
    // Registered and configured by hand (the protocol registerSyncWorker speaks), so no
    // `waystation:sync` message keeps the worker standing by: only the sync event can drive it.
    const answer = await page.evaluate(async (token) => {
      const registration = await navigator.serviceWorker.register("/waystation-sw.js");
      await navigator.serviceWorker.ready;
      const channel = new MessageChannel();
      const reply = new Promise((resolve) => (channel.port1.onmessage = (e) => resolve(e.data)));
      registration.active!.postMessage({ type: "waystation:configure", outbox: { url: location.origin, dbName: "sw-sync-db", token } }, [channel.port2]);
      return reply;
    }, worker.token);
    expect(answer).toEqual({ ok: true });
    await context.setOffline(true);
    await startClient(page, worker.token, { dbName: "sw-sync-db" });
    const seqs = await enqueueRange(page, "sw-sync", 0, 20);
    expect(seqs).toEqual([...Array(20).keys()].map((i) => i + 1));
    await page.close();
    await context.setOffline(false);
    await sleep(3000);
    expect(await readStation(worker, "sw-sync")).toHaveLength(0); // nothing woke the worker yet

    // DevTools from a blank tab (not of the origin): the registration, then its sync event.
    const blank = await context.newPage();
    const cdp = await context.newCDPSession(blank);
    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => registrations.push(...e.registrations));
    await cdp.send("ServiceWorker.enable");
    await waitUntil(async () => registrations.some((r) => r.scopeURL === `${worker.url}/` && !r.isDeleted), "the registration");
    const { registrationId } = registrations.find((r) => r.scopeURL === `${worker.url}/` && !r.isDeleted)!;
    await cdp.send("ServiceWorker.dispatchSyncEvent", { origin: worker.url, registrationId, tag: "waystation-sync", lastChance: false });

    await waitUntil(async () => (await readStation(worker, "sw-sync")).length >= 20, "the sync event to deliver", 60_000);
    await sleep(1000);
    const stored = await readStation(worker, "sw-sync");
    expect(stored.map((m) => m.body.i)).toEqual([...Array(20).keys()]);
    expect(stored.map((m) => m.seq)).toEqual(seqs);
    expect(new Set(stored.map((m) => m.producer)).size).toBe(1);

    const reader = await context.newPage();
    await reader.goto(`${worker.url}/healthz`);
    const runs = (await readRegistry<RunRecord & { dbName: string }>(reader, "runs")).filter((r) => r.dbName === "sw-sync-db");
    expect(runs.filter((r) => r.acked > 0)).toMatchObject([{ trigger: "sync", triggers: ["sync"], acked: 20, pending: 0, locked: true }]);
    await context.close();
  });
});
