// End to end in Chromium against wrangler dev: the runtime is killed (SIGKILL of wrangler and
// workerd) while the SDK is syncing, then restarted on the same state; the outbox drains with
// nothing lost and nothing stored twice.
import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createStation, openSdkPage, pendingCount, readStation, serveSdkPage, startClient, useWorkerAndBrowser, waitUntil } from "./sdk-browser";
import { apiClient, type RunningWorker, startWorker } from "./wrangler-dev";

const TOTAL = 3000;

describe("SDK across a runtime crash", () => {
  let worker: RunningWorker;
  let browser: Browser;
  useWorkerAndBrowser((w, b) => ([worker, browser] = [w, b]));

  it("drains the outbox after the runtime is killed mid-sync and restarted, with no loss and no duplicate", async () => {
    await createStation(worker, "crash");
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    const page = await openSdkPage(context, worker);
    await context.setOffline(true);
    await startClient(page, worker.token, { maxBatchMessages: 25, backoffBaseMs: 100, backoffMaxMs: 1000 });
    await page.evaluate(async (total) => {
      const st = (window as any).ws.station("crash");
      for (let i = 0; i < total; i++) await st.enqueue({ i });
    }, TOTAL);
    await context.setOffline(false);

    const stored = async () => (await apiClient(worker)("GET", "/v1/stations/crash")).body?.stats?.messages ?? 0;
    await waitUntil(async () => (await stored()) >= 300, "sync to be under way");
    await worker.kill();
    const before = await pendingCount(page);
    expect(before).toBeGreaterThan(0);

    worker = await startWorker({ stateDir: worker.stateDir, port: worker.port });
    await waitUntil(async () => (await pendingCount(page)) === 0, "the outbox to drain after the restart", 90_000);
    const messages = await readStation(worker, "crash");
    expect(messages.map((m) => m.body.i)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(new Set(messages.map((m) => m.producer)).size).toBe(1);
    await context.close();
  });
});
