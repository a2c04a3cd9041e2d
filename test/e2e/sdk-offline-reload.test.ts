// End to end in Chromium against wrangler dev: 1,000 actions enqueued offline, with a page
// reload halfway, arrive exactly once and in enqueue order once the network is back.
import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createStation, enqueueRange, openSdkPage, pendingCount, readStation, serveSdkPage, startClient, useWorkerAndBrowser, waitUntil } from "./sdk-browser";
import { type RunningWorker } from "./wrangler-dev";

describe("SDK offline, with a reload", () => {
  let worker: RunningWorker;
  let browser: Browser;
  useWorkerAndBrowser((w, b) => ([worker, browser] = [w, b]));

  it("delivers 1,000 actions enqueued offline across a reload exactly once, in enqueue order", async () => {
    await createStation(worker, "offline-todos");
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    await context.setOffline(true);
    const page = await openSdkPage(context, worker);
    const options = { backoffBaseMs: 200, backoffMaxMs: 1000 };
    await startClient(page, worker.token, options);
    const first = await enqueueRange(page, "offline-todos", 0, 500);
    expect(await page.evaluate(() => (window as any).ws.status.state)).toBe("offline");

    await page.reload();
    await startClient(page, worker.token, options);
    expect(await pendingCount(page)).toBe(500);
    const second = await enqueueRange(page, "offline-todos", 500, 1000);
    expect([...first, ...second]).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await pendingCount(page)).toBe(1000);
    expect(await readStation(worker, "offline-todos")).toHaveLength(0);

    await context.setOffline(false);
    await waitUntil(async () => (await pendingCount(page)) === 0, "the outbox to drain");
    const messages = await readStation(worker, "offline-todos");
    expect(messages.map((m) => m.body.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(new Set(messages.map((m) => m.producer)).size).toBe(1);
    await waitUntil(async () => (await page.evaluate(() => (window as any).ws.status.state)) === "idle", "the idle status");
    await context.close();
  });

  it("reopens the database when the browser clears it, and goes on as a new producer", async () => {
    await createStation(worker, "cleared");
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    const page = await openSdkPage(context, worker);
    await startClient(page, worker.token);
    const producer1 = await page.evaluate(() => (window as any).ws.producerId("cleared")); // producers are per stream
    await enqueueRange(page, "cleared", 0, 3);
    await waitUntil(async () => (await pendingCount(page)) === 0, "the first actions to sync");

    // "Clear site data" for IndexedDB: Chromium closes the page's connection and deletes the store.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.clearDataForOrigin", { origin: worker.url, storageTypes: "indexeddb" });
    const seqs = await enqueueRange(page, "cleared", 3, 5);
    expect(seqs).toEqual([1, 2]);
    const producer2 = await page.evaluate(() => (window as any).ws.producerId("cleared"));
    expect(producer2).not.toBe(producer1);
    await waitUntil(async () => (await pendingCount(page)) === 0, "the later actions to sync");
    const messages = await readStation(worker, "cleared");
    expect(messages.map((m) => [m.producer, m.seq, m.body.i])).toEqual([
      [producer1, 1, 0],
      [producer1, 2, 1],
      [producer1, 3, 2],
      [producer2, 1, 3],
      [producer2, 2, 4],
    ]);
    await context.close();
  });
});
