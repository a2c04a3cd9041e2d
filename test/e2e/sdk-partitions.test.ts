// End to end in Chromium against wrangler dev, on a station of 4 partitions: the page learns the
// count from a first answer, goes offline, enqueues keyed actions, reloads, comes back online and
// syncs. Read partition by partition (`?partition=P`): every action is stored exactly once, each
// key's actions in one partition (the one the shared hash names) and in enqueue order, and each
// partition's stream from the page is numbered 1, 2, 3… under one producer. Then the page
// consumes a group over every partition: the handler sees each message's partition, a nacked
// message comes back, and every message is acked once (by {partition, offset, epoch}). And the
// server client's producer with a store numbers each partition's stream on its own.
import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createServerClient, type ProducerState } from "../../client/server/index";
import { partitionFor } from "../../shared/partitions";
import { createStation, openSdkPage, pendingCount, readStation, serveSdkPage, startClient, type StoredMessage, useWorkerAndBrowser, waitUntil } from "./sdk-browser";
import { apiClient, type RunningWorker } from "./wrangler-dev";

const PARTITIONS = 4;
const KEYS = Array.from({ length: 12 }, (_, i) => `user-${i}`);

/** Enqueues `{i, key}` for i in [from, to), keyed round-robin over KEYS; returns where each went. */
function enqueueKeyed(page: import("playwright-core").Page, station: string, from: number, to: number, keys: string[]) {
  return page.evaluate(
    async ({ station, from, to, keys }) => {
      const st = (window as any).ws.station(station);
      const placed: { i: number; key: string; partition: number; seq: number }[] = [];
      for (let i = from; i < to; i++) {
        const key = keys[i % keys.length]!;
        placed.push({ i, key, ...(await st.enqueue({ i, key }, { key })) });
      }
      return placed;
    },
    { station, from, to, keys },
  );
}

describe("SDK on a partitioned station, offline with a reload", () => {
  let worker: RunningWorker;
  let browser: Browser;
  useWorkerAndBrowser((w, b) => ([worker, browser] = [w, b]));

  it("stores every keyed action once, each key in its one partition in enqueue order, each partition's stream numbered 1, 2, 3…", async () => {
    await createStation(worker, "sharded", { partitions: PARTITIONS });
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    const page = await openSdkPage(context, worker);
    const options = { backoffBaseMs: 200, backoffMaxMs: 1000 };
    await startClient(page, worker.token, options);
    // A first action online: the station's answer tells the page it has 4 partitions.
    const [first] = await enqueueKeyed(page, "sharded", -1, 0, ["learn"]);
    expect(first!.partition).toBe(0); // the count was not known yet
    await waitUntil(async () => (await pendingCount(page)) === 0, "the first action to sync");

    await context.setOffline(true);
    const before = await enqueueKeyed(page, "sharded", 0, 120, KEYS);
    await page.reload();
    await startClient(page, worker.token, options);
    expect(await pendingCount(page)).toBe(120);
    const after = await enqueueKeyed(page, "sharded", 120, 240, KEYS);
    const placed = [...before, ...after];
    for (const p of placed) expect(p.partition).toBe(partitionFor(p.key, null, PARTITIONS));
    expect(new Set(placed.map((p) => p.partition)).size).toBeGreaterThan(1);

    await context.setOffline(false);
    await waitUntil(async () => (await pendingCount(page)) === 0, "the outbox to drain");
    const byPartition: StoredMessage[][] = [];
    for (let p = 0; p < PARTITIONS; p++) byPartition.push(await readStation(worker, "sharded", p));
    const stored = byPartition.flat().filter((m) => m.body.i >= 0);
    // Exactly once.
    expect(stored.map((m) => m.body.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 240 }, (_, i) => i));
    // Each key in one partition, the one its hash names, in enqueue order.
    for (const key of KEYS) {
      const partition = partitionFor(key, null, PARTITIONS)!;
      const ofKey = byPartition[partition]!.filter((m) => m.key === key);
      expect(ofKey.map((m) => m.body.i)).toEqual(placed.filter((p) => p.key === key).map((p) => p.i));
      for (let p = 0; p < PARTITIONS; p++) if (p !== partition) expect(byPartition[p]!.some((m) => m.key === key)).toBe(false);
    }
    // Each partition: one producer from this page, its seqs 1, 2, 3…, offsets dense.
    for (const [p, messages] of byPartition.entries()) {
      expect(messages.every((m) => m.partition === p)).toBe(true);
      expect(new Set(messages.map((m) => m.producer)).size).toBeLessThanOrEqual(1);
      expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
      expect(messages.map((m) => m.offset)).toEqual(messages.map((_, i) => i + 1));
    }
    await waitUntil(async () => (await page.evaluate(() => (window as any).ws.status.state)) === "idle", "the idle status");
    await context.close();
  });

  for (const transport of ["websocket", "poll"] as const) {
    it(`consumes every partition through one group, acking and nacking by partition (${transport})`, async () => {
      const station = `sharded-consume-${transport}`;
      await createStation(worker, station, { partitions: PARTITIONS });
      const api = apiClient(worker);
      expect((await api("PUT", `/v1/stations/${station}/groups/ui`, {})).status).toBe(201);
      const sent = Array.from({ length: 40 }, (_, i) => ({ key: KEYS[i % KEYS.length]!, body: { i, key: KEYS[i % KEYS.length]! } }));
      expect((await api("POST", `/v1/stations/${station}/messages`, { messages: sent })).status).toBe(200);
      const context = await browser.newContext();
      await serveSdkPage(context, worker);
      const page = await openSdkPage(context, worker, { fromWorker: true });
      await startClient(page, worker.token);
      await page.evaluate(
        ({ station, transport }) => {
          const w = window as any;
          w.seen = [];
          w.failed = new Set();
          w.errors = [];
          w.consumer = w.ws.station(station).consume(
            "ui",
            (m: { partition: number; offset: number; key: string; body: { i: number }; deliveries: number }) => {
              // The first message of each partition fails once: nacked by {partition, offset}, handed out again.
              if (m.offset === 1 && !w.failed.has(m.partition)) {
                w.failed.add(m.partition);
                throw new Error("not now");
              }
              w.seen.push({ i: m.body.i, key: m.key, partition: m.partition, deliveries: m.deliveries });
            },
            { transport, nackDelayMs: 0, waitMs: 1000, max: 7, onError: (e: Error) => w.errors.push(String(e.message)) },
          );
        },
        { station, transport },
      );
      await waitUntil(async () => (await page.evaluate(() => (window as any).seen.length)) >= sent.length, "every message handled", 30_000).catch(async (e) => {
        throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => [(window as any).seen, (window as any).errors]))}`);
      });
      const seen: { i: number; key: string; partition: number; deliveries: number }[] = await page.evaluate(() => (window as any).seen);
      expect(seen.map((m) => m.i).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
      for (const m of seen) expect(m.partition).toBe(partitionFor(m.key, null, PARTITIONS));
      expect(new Set(seen.map((m) => m.partition)).size).toBeGreaterThan(1);
      expect(seen.filter((m) => m.deliveries === 2)).toHaveLength(await page.evaluate(() => (window as any).failed.size));
      expect(await page.evaluate(() => (window as any).consumer.transport)).toBe(transport);
      await waitUntil(async () => {
        const group = (await api("GET", `/v1/stations/${station}/groups/ui`)).body;
        return group.pending === 0 && group.lag === 0;
      }, "the group to have acked every partition");
      await page.evaluate(() => (window as any).consumer.stop());
      await context.close();
    });
  }

  it("stores each message of the server producer with a store once, numbered per partition, and goes on from its store", async () => {
    await createStation(worker, "server-sharded", { partitions: PARTITIONS });
    let saved: ProducerState | null = null;
    const store = { load: () => saved, save: (state: ProducerState) => void (saved = structuredClone(state)) };
    const client = createServerClient({ url: worker.url, token: worker.token });
    const producer = client.producer("server-sharded", { store, lingerMs: 2 });
    expect(await producer.send({ i: -1, key: "first" }, { key: "first" })).toMatchObject({ partition: 0, seq: 1 });
    await producer.flush();
    expect(saved!.partitions).toBe(PARTITIONS);
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => producer.send({ i, key: KEYS[i % KEYS.length]! }, { key: KEYS[i % KEYS.length]! })));
    results.forEach((r, i) => expect(r.partition).toBe(partitionFor(KEYS[i % KEYS.length]!, saved!.producer, PARTITIONS)));
    await producer.close();
    // Made again from its store, it goes on with each partition's numbering.
    const again = client.producer("server-sharded", { store, lingerMs: 0 });
    for (const key of KEYS) await again.send({ i: 1000, key }, { key });
    await again.close();
    const byPartition: StoredMessage[][] = [];
    for (let p = 0; p < PARTITIONS; p++) byPartition.push(await readStation(worker, "server-sharded", p));
    const all = byPartition.flat();
    expect(all).toHaveLength(1 + 120 + KEYS.length);
    expect(all.filter((m) => m.body.i >= 0 && m.body.i < 1000).map((m) => m.body.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    for (const messages of byPartition) {
      expect(messages.every((m) => m.producer === saved!.producer)).toBe(true);
      expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
    }
    for (const key of KEYS) {
      const partition = partitionFor(key, saved!.producer, PARTITIONS)!;
      const ofKey = byPartition[partition]!.filter((m) => m.key === key).map((m) => m.body.i);
      expect(ofKey).toEqual([...Array.from({ length: 120 }, (_, i) => i).filter((i) => i % KEYS.length === KEYS.indexOf(key)), 1000]);
    }
  });
});
