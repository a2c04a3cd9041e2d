// End to end in Chromium against wrangler dev: tabs of one origin share one outbox and one
// syncing tab. Two tabs enqueueing at once are delivered once each; closing the syncing tab in
// the middle of a batch hands syncing to the other tab, which finishes with nothing lost or doubled.
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createStation, openSdkPage, pendingCount, readStation, serveSdkPage, startClient, useWorkerAndBrowser, waitUntil } from "./sdk-browser";
import { type RunningWorker } from "./wrangler-dev";

const isLeader = (page: Page) => page.evaluate(() => (window as any).ws.status.leader as boolean);

describe("SDK in several tabs", () => {
  let worker: RunningWorker;
  let browser: Browser;
  useWorkerAndBrowser((w, b) => ([worker, browser] = [w, b]));

  it("delivers every action of two tabs enqueueing at once exactly once, with one tab syncing", async () => {
    await createStation(worker, "two-tabs");
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    const [a, b] = [await openSdkPage(context, worker), await openSdkPage(context, worker)];
    const producing = new Map<Page, number>();
    for (const page of [a, b]) {
      producing.set(page, 0);
      page.on("request", (req) => {
        if (req.method() === "POST" && req.url().endsWith("/messages")) producing.set(page, producing.get(page)! + 1);
      });
    }
    await startClient(a, worker.token, { maxBatchMessages: 50 });
    await startClient(b, worker.token, { maxBatchMessages: 50 });
    await waitUntil(async () => (await isLeader(a)) || (await isLeader(b)), "a syncing tab");

    const enqueue = (page: Page, tab: string) =>
      page.evaluate(async (tab) => {
        const st = (window as any).ws.station("two-tabs");
        return Promise.all(Array.from({ length: 300 }, (_, i) => st.enqueue({ i, tab }).then((r: { seq: number }) => r.seq)));
      }, tab);
    const [seqsA, seqsB] = await Promise.all([enqueue(a, "a"), enqueue(b, "b")]);
    expect([...seqsA, ...seqsB].sort((x, y) => x - y)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));

    await waitUntil(async () => (await pendingCount(a)) === 0, "the outbox to drain");
    const messages = await readStation(worker, "two-tabs");
    expect(messages).toHaveLength(600);
    for (const tab of ["a", "b"]) {
      // Each tab's actions once each, in the order the tab enqueued them.
      expect(messages.filter((m) => m.body.tab === tab).map((m) => m.body.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    }
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    const leaders = [await isLeader(a), await isLeader(b)];
    expect(leaders.filter(Boolean)).toHaveLength(1);
    const syncing = leaders[0] ? a : b;
    const other = leaders[0] ? b : a;
    expect(producing.get(syncing)).toBeGreaterThan(0);
    expect(producing.get(other)).toBe(0);
    await context.close();
  });

  it("lets another tab finish when the syncing tab closes mid-batch, losing and doubling nothing", async () => {
    await createStation(worker, "tab-closed");
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    const a = await openSdkPage(context, worker);
    await startClient(a, worker.token, { maxBatchMessages: 100 });
    await waitUntil(() => isLeader(a), "the first tab to sync");
    const b = await openSdkPage(context, worker);
    await startClient(b, worker.token, { maxBatchMessages: 100, backoffBaseMs: 100, backoffMaxMs: 500 });

    // The syncing tab's third batch reaches the station, then the tab closes before the answer.
    let batches = 0;
    let closed: Promise<void> | undefined;
    await a.route("**/v1/stations/tab-closed/messages", async (route) => {
      if (++batches < 3) return route.continue();
      await route.fetch(); // the station commits the batch
      closed = a.close();
    });
    await b.evaluate(async () => {
      (window as any).duplicates = 0;
      (window as any).ws.on("acked", (e: { duplicate: boolean }) => e.duplicate && (window as any).duplicates++);
      const st = (window as any).ws.station("tab-closed");
      for (let i = 0; i < 1000; i++) await st.enqueue({ i });
    });
    await waitUntil(async () => closed !== undefined, "the syncing tab to close mid-batch");
    await closed;
    await waitUntil(() => isLeader(b), "the other tab to take over");
    await waitUntil(async () => (await pendingCount(b)) === 0, "the outbox to drain");
    const messages = await readStation(worker, "tab-closed");
    expect(messages.map((m) => m.body.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    // The batch whose answer died with the tab was sent again and answered as duplicates.
    expect(await b.evaluate(() => (window as any).duplicates)).toBeGreaterThan(0);
    await context.close();
  });
});
