// Crash recovery against a real `wrangler dev`: producers stream batches, the runtime gets
// SIGKILL at a random moment, restarts on the same state dir, and the producers resume.
// Proves invariants 1 and 2: every acknowledged message is stored once, in seq order.
// The kill moments come from a seed printed at the start; CRASH_SEED=<n> replays a run.
import { afterAll, describe, expect, it } from "vitest";
import { type Answer, CrashProducer, type SentMessage, type Target } from "./crash-producer";
import { apiClient, type RunningWorker, removeStateDir, sleep, startWorker, tempStateDir } from "./wrangler-dev";
import { seededRandom } from "../seeded-random";

const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = 4;
const PRODUCERS = 3;
const MAX_BATCH = 20;
/** Bounds on one producer's stream between kills, in case a kill never lands. */
const MAX_BATCHES_PER_ROUND = 5_000;
const MAX_ROUND_MS = 30_000;


const random = seededRandom(SEED);
const where = `(CRASH_SEED=${SEED})`;

/** Streams batches until the connection is lost. A loss before the kill is a bug. */
async function streamUntilLost(producer: CrashProducer, target: Target, killed: () => boolean): Promise<number> {
  const deadline = Date.now() + MAX_ROUND_MS;
  let batches = 0;
  while (batches < MAX_BATCHES_PER_ROUND && Date.now() < deadline) {
    const batch = producer.nextBatch(1 + Math.floor(random() * MAX_BATCH));
    const answer = await producer.send(target, batch);
    if (answer.kind === "lost") {
      if (!killed()) throw new Error(`${producer.id} lost a batch before the kill: ${answer.reason} ${where}`);
      return batches;
    }
    expect(answer.kind, `${producer.id} seq ${batch[0]!.seq} ${where}`).toBe("ok");
    const results = (answer as Extract<Answer, { kind: "ok" }>).results;
    expect(results.map((r) => r.duplicate)).toEqual(batch.map(() => false));
    // One batch, one transaction: its offsets are consecutive even with other producers writing.
    expect(results.map((r) => r.offset! - results[0]!.offset!)).toEqual(batch.map((_, i) => i));
    producer.acknowledge(results);
    batches += 1;
  }
  throw new Error(`${producer.id} was never cut off: the kill did not land ${where}`);
}

/**
 * After a restart: an acknowledged batch sent again gets its original offsets; then the batch the
 * crash left unanswered is settled, either by sending it again or by first asking where to
 * resume (a probe far ahead is refused with `seq_gap` and `expectedSeq`).
 */
async function resume(producer: CrashProducer, target: Target, askFirst: boolean): Promise<"stored" | "not stored"> {
  const last = producer.lastAckedBatch;
  if (last) {
    const again = await producer.send(target, last.messages);
    expect(again, `${producer.id} resends seq ${last.messages[0]!.seq} ${where}`).toEqual({
      kind: "ok",
      results: last.messages.map((m, i) => ({ seq: m.seq, partition: 0, offset: last.offsets[i], duplicate: true })),
    });
  }

  const pending = producer.pending as SentMessage[];
  const firstSeq = pending[0]!.seq;
  const afterSeq = pending.at(-1)!.seq + 1;
  let storedBeforeCrash: boolean | null = null;
  if (askFirst) {
    const probe = await producer.send(target, producer.probe());
    expect(probe.kind, `${producer.id} probe ${where}`).toBe("seq_gap");
    const { expectedSeq } = probe as Extract<Answer, { kind: "seq_gap" }>;
    expect([firstSeq, afterSeq], `${producer.id} must resume at a batch boundary ${where}`).toContain(expectedSeq);
    storedBeforeCrash = expectedSeq === afterSeq;
  }

  const answer = await producer.send(target, pending);
  expect(answer.kind, `${producer.id} resends its pending batch ${where}`).toBe("ok");
  const results = (answer as Extract<Answer, { kind: "ok" }>).results;
  const duplicates = results.map((r) => r.duplicate);
  // Stored whole or not at all: every message of the batch tells the same story.
  expect(duplicates, `${producer.id} pending batch at seq ${firstSeq} ${where}`).toEqual(pending.map(() => duplicates[0]));
  if (storedBeforeCrash !== null) expect(duplicates[0]).toBe(storedBeforeCrash);
  producer.acknowledge(results);
  return duplicates[0] ? "stored" : "not stored";
}

async function readWholeLog(worker: RunningWorker, station: string) {
  const call = apiClient(worker);
  const all: any[] = [];
  for (let from = 1, pages = 0; pages < 1_000; pages++) {
    const res = await call("GET", `/v1/stations/${station}/messages?from=${from}&limit=1000`);
    expect(res.status).toBe(200);
    all.push(...res.body.messages);
    if (res.body.messages.length === 0) break;
    from = res.body.nextOffset;
  }
  return all;
}

describe("kill -9 of wrangler dev mid-stream", () => {
  const stateDir = tempStateDir();
  let worker: RunningWorker | undefined;

  afterAll(async () => {
    await worker?.kill();
    removeStateDir(stateDir);
  });

  it("keeps every acknowledged message once, in seq order, and the producers resume", async () => {
    console.info(`crash test seed: CRASH_SEED=${SEED}`);
    worker = await startWorker({ stateDir });
    const station = "crash";
    expect((await apiClient(worker)("PUT", `/v1/stations/${station}`, {})).status).toBe(201);
    const producers = Array.from({ length: PRODUCERS }, (_, i) => new CrashProducer(`crash-producer-${i}`, station));
    const settled = { stored: 0, "not stored": 0 };

    for (let round = 0; round < KILLS; round++) {
      let killed = false;
      const target = worker;
      const streams = producers.map((p) => streamUntilLost(p, target, () => killed));
      await sleep(200 + Math.floor(random() * 1_500)); // the random moment of the crash
      killed = true;
      await worker.kill();
      await Promise.all(streams);

      worker = await startWorker({ stateDir });
      for (const [i, producer] of producers.entries()) {
        settled[await resume(producer, worker, (round + i) % 2 === 1)] += 1;
      }
    }

    // The producers carry on after the last restart as if nothing happened.
    for (const producer of producers) {
      for (let i = 0; i < 3; i++) {
        const answer = await producer.send(worker, producer.nextBatch(5));
        expect(answer.kind).toBe("ok");
        producer.acknowledge((answer as Extract<Answer, { kind: "ok" }>).results);
      }
    }
    console.info(`unanswered batches found stored: ${settled.stored}, not stored: ${settled["not stored"]}`);

    const log = await readWholeLog(worker, station);
    expect(log.map((m) => m.offset), `offsets are dense from 1 ${where}`).toEqual(log.map((_, i) => i + 1));
    for (const producer of producers) {
      const mine = log.filter((m) => m.producer === producer.id);
      // Once each, in seq order, nothing missing: exactly seqs 1..n in log order.
      expect(mine.map((m) => m.seq), `${producer.id} ${where}`).toEqual(Array.from({ length: producer.lastAckedSeq }, (_, i) => i + 1));
      expect(producer.acked.size).toBe(producer.lastAckedSeq);
      for (const m of mine) {
        expect(m.offset, `${producer.id} seq ${m.seq} keeps its acknowledged offset ${where}`).toBe(producer.acked.get(m.seq));
        expect(m.body).toEqual({ producer: producer.id, seq: m.seq, pad: expect.any(String) });
      }
    }
    expect(log.length).toBe(producers.reduce((n, p) => n + p.lastAckedSeq, 0));

    const info = await apiClient(worker)("GET", `/v1/stations/${station}`);
    expect(info.body.stats).toMatchObject({ firstOffset: 1, lastOffset: log.length, messages: log.length });
  }, 300_000); // five wrangler dev starts; slow on a busy machine
});
