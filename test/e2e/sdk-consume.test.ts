// End to end in Chromium against wrangler dev: station.consume() over WebSocket and over
// long-poll hands every message to the handler in order, acks it, and gets a message whose
// handler threw handed out again.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStation, launchChromium, openSdkPage, serveSdkPage, startClient, waitUntil } from "./sdk-browser";
import { apiClient, type RunningWorker, removeStateDir, startWorker } from "./wrangler-dev";

describe("SDK consume", () => {
  let worker: RunningWorker;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    [worker, browser] = await Promise.all([startWorker(), launchChromium()]);
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    page = await openSdkPage(context, worker, { fromWorker: true });
    await startClient(page, worker.token);
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  for (const transport of ["websocket", "poll"] as const) {
    it(`hands messages to the handler in order, acks them, and redelivers one that threw (${transport})`, async () => {
      const station = `consume-${transport}`;
      await createStation(worker, station);
      const api = apiClient(worker);
      // Only the manage right creates a group (PUT); the SDK's consumer then reads from it.
      expect((await api("PUT", `/v1/stations/${station}/groups/ui`, {})).status).toBe(201);
      const produced = await api("POST", `/v1/stations/${station}/messages`, { messages: Array.from({ length: 20 }, (_, i) => ({ body: { i } })) });
      expect(produced.status).toBe(200);

      await page.evaluate(
        ({ station, transport }) => {
          const w = window as any;
          w.seen = [];
          w.failedOnce = false;
          w.errors = [];
          w.consumer = w.ws.station(station).consume(
            "ui",
            (m: { body: { i: number }; deliveries: number }) => {
              if (m.body.i === 7 && !w.failedOnce) {
                w.failedOnce = true;
                throw new Error("not now");
              }
              w.seen.push({ i: m.body.i, deliveries: m.deliveries });
            },
            { transport, nackDelayMs: 0, waitMs: 1000, max: 5, onError: (e: Error) => w.errors.push(String(e.message)) },
          );
        },
        { station, transport },
      );
      await waitUntil(async () => (await page.evaluate(() => (window as any).seen.length)) === 20, "every message handled", 20_000).catch(async (e) => {
        throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => [(window as any).seen, (window as any).errors]))}`);
      });
      const seen: { i: number; deliveries: number }[] = await page.evaluate(() => (window as any).seen);
      expect(seen.filter((s) => s.i !== 7).map((s) => s.i)).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7));
      expect(seen.find((s) => s.i === 7)!.deliveries).toBe(2);
      expect(await page.evaluate(() => (window as any).consumer.transport)).toBe(transport);
      await waitUntil(async () => {
        const group = (await api("GET", `/v1/stations/${station}/groups/ui`)).body;
        return group.ackFloor === 20 && group.pending === 0;
      }, "the group to have acked all 20");
      await page.evaluate(() => (window as any).consumer.stop());
    });
  }

  it("falls back to long-poll when the WebSocket cannot connect", async () => {
    await createStation(worker, "consume-fallback");
    expect((await apiClient(worker)("PUT", "/v1/stations/consume-fallback/groups/ui", {})).status).toBe(201);
    await apiClient(worker)("POST", "/v1/stations/consume-fallback/messages", { messages: [{ body: "a" }, { body: "b" }] });
    // A page Chromium refuses WebSockets to loopback from (see openSdkPage): as behind a proxy that drops them.
    const blocked = await openSdkPage(page.context(), worker);
    await startClient(blocked, worker.token);
    const bodies = await blocked.evaluate(
      () =>
        new Promise<{ bodies: unknown[]; transport: string }>((resolve) => {
          const bodies: unknown[] = [];
          const consumer = (window as any).ws.station("consume-fallback").consume("ui", (m: { body: unknown }) => {
            bodies.push(m.body);
            if (bodies.length === 2) setTimeout(() => resolve({ bodies, transport: consumer.transport }));
          });
        }),
    );
    expect(bodies).toEqual({ bodies: ["a", "b"], transport: "poll" });
  });
});
