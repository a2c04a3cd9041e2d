// Tiered storage against `wrangler dev` (issue 19 item 5): with `retention.archive`, the alarm
// moves what retention trims into the locally simulated R2 bucket (kept under the state dir, no
// setup), and after a kill -9 and a restart on the same state a replay from offset 1 still
// returns every message, in order.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { apiClient, type RunningWorker, removeStateDir, sleep, startWorker } from "./wrangler-dev";

let worker: RunningWorker | undefined;

afterAll(async () => {
  await worker?.stop();
  if (worker) removeStateDir(worker.stateDir);
});

async function replayAll(call: ReturnType<typeof apiClient>, station: string): Promise<any[]> {
  const all: any[] = [];
  let next = 1;
  for (;;) {
    const res = await call("GET", `/v1/stations/${station}/messages?from=${next}&limit=1000`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.messages.length === 0) return all;
    all.push(...res.body.messages);
    next = res.body.nextOffset;
  }
}

describe("retention.archive under wrangler dev", () => {
  it("archives to the simulated R2 bucket, and a replay from 1 after a restart returns every message in order", async () => {
    const total = 5_000;
    const kept = 100;
    worker = await startWorker();
    let call = apiClient(worker);
    const station = `archive-${Date.now()}`;
    expect((await call("PUT", `/v1/stations/${station}`, { retention: { maxMessages: kept, archive: true } })).status).toBe(201);
    for (let start = 1; start <= total; start += 1000) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({ body: { n: start + i } }));
      const res = await call("POST", `/v1/stations/${station}/messages`, { messages });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    // The alarm archives on its own (at most 10,000 a run, then again at once).
    const deadline = Date.now() + 60_000;
    let stats: any;
    do {
      await sleep(250);
      stats = (await call("GET", `/v1/stations/${station}`)).body.stats;
    } while (stats.archivedMessages < total - kept && Date.now() < deadline);
    expect(stats).toMatchObject({ firstOffset: total - kept + 1, messages: kept, archivedMessages: total - kept });
    // wrangler dev keeps the bucket with the rest of the local state.
    expect(existsSync(join(worker.stateDir, "v3", "r2")), worker.stateDir).toBe(true);

    await worker.kill();
    worker = await startWorker({ stateDir: worker.stateDir });
    call = apiClient(worker);
    const replayed = await replayAll(call, station);
    expect(replayed.length).toBe(total);
    const wrong = replayed.findIndex((m, i) => m.offset !== i + 1 || m.body.n !== i + 1);
    expect(wrong, wrong >= 0 ? JSON.stringify(replayed[wrong]) : "").toBe(-1);
    expect((await call("GET", `/v1/stations/${station}`)).body.stats).toMatchObject({ archivedMessages: total - kept, messages: kept });
  }, 240_000);
});
