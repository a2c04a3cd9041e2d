// Storage and read bounds (issue 14 items 2 and 3): the quota counts every table a station
// keeps (dead letters, ids, kept copies), refusing with 507 and writing nothing; the DLS keeps
// its own bound; replay reads, DLS pages and resends are bounded by bytes and say where to go on.
import { describe, expect, it } from "vitest";
import { ErrorCode, fail } from "../../shared/errors";
import { MAX_DEAD_LETTERS, MAX_READ_BYTES } from "../../shared/limits";
import { addDeadLetter, chunksOf, contentOfRow, type DeadLetterRow, resendDeadLetters } from "../../worker/station/dead-letters";
import { bytesBesideLog, readPage, readStorageUsage } from "../../worker/station/log";
import { api, createStation, produce } from "./helpers";
import { createGroups, fireAlarm, nack, offsetsOf, take } from "./groups-helpers";
import { addVersion, inStation, stationWithSchema, TODO_V1, uniqueSchema } from "./schemas-helpers";

const KiB = 1024;

/** What a refused request must leave as it was: stats, the log, the DLS, the dedup ids. */
async function snapshot(station: string) {
  const info = await api("GET", `/v1/stations/${station}`);
  const log = await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`);
  const dls = await api("GET", `/v1/stations/${station}/dls?limit=1000`);
  const ids = await inStation(station, (instance) => instance.ctx.storage.sql.exec("SELECT count(*) AS n FROM dedup_ids").one().n);
  return { stats: info.body.stats, messages: log.body.messages, deadLetters: dls.body.deadLetters, ids };
}

/** A body that fails TODO_V1 (todo is not a string), about `bytes` long. */
const failing = (bytes: number, n = 0) => ({ todo: n, pad: "x".repeat(bytes - 30) });

async function dlsStation(config: Record<string, unknown>): Promise<string> {
  const schema = uniqueSchema();
  await addVersion(schema, TODO_V1);
  return stationWithSchema(schema, "latest", { dls: { onSchemaFailure: true }, ...config });
}

/** Sets a station's quota, keeping the rest of its config. */
async function setQuota(station: string, maxStorageBytes: number): Promise<void> {
  const { config } = (await api("GET", `/v1/stations/${station}`)).body;
  const res = await api("PUT", `/v1/stations/${station}`, { ...config, maxStorageBytes });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

describe("the storage quota counts every table", () => {
  it("counts dead letters filed for the schema: 507 once they fill the quota, nothing written", async () => {
    const station = await dlsStation({});
    const first = await produce(station, { messages: [0, 1, 2].map((n) => ({ body: failing(300, n) })) });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.results.every((r: any) => r.deadLettered)).toBe(true);
    const stored = (await api("GET", `/v1/stations/${station}`)).body.stats;
    expect(stored.bytes).toBe(0);
    expect(stored.storedBytes).toBeGreaterThanOrEqual(3 * 300);
    // Room for less than one more letter; the log itself is empty.
    await setQuota(station, stored.storedBytes + 200);
    const before = await snapshot(station);
    expect(before.deadLetters).toHaveLength(3);

    const res = await produce(station, { messages: [{ body: failing(300, 3) }] });
    expect(res.status).toBe(507);
    expect(res.body.error).toMatchObject({ code: "quota_exceeded", quotaBytes: stored.storedBytes + 200, storedBytes: stored.storedBytes });
    expect(await snapshot(station)).toEqual(before);
  });

  it("counts message ids twice (log and dedup window): 507 once they fill the quota, nothing written", async () => {
    const station = await createStation({ maxStorageBytes: 2000 });
    const id = (n: number) => `${"i".repeat(250)}-${String(n).padStart(5, "0")}`;
    const first = await produce(station, { messages: [1, 2, 3].map((n) => ({ body: n, id: id(n) })) });
    expect(first.status).toBe(200);
    const before = await snapshot(station);
    expect(before.stats.bytes).toBe(3);
    expect(before.stats.storedBytes).toBe(3 + 3 * 256 * 2);
    expect(before.ids).toBe(3);

    const res = await produce(station, { messages: [{ body: 4, id: id(4) }] });
    expect(res.status).toBe(507);
    expect(res.body.error.code).toBe("quota_exceeded");
    expect(await snapshot(station)).toEqual(before);
    // A resent id inside the window adds nothing and is still answered with its offset.
    const again = await produce(station, { messages: [{ body: 1, id: id(1) }] });
    expect(again.body.results).toEqual([{ seq: null, partition: 0, offset: 1, duplicate: true }]);
  });

  it("counts copies kept for a group after retention trimmed the log: 507, nothing written", async () => {
    const station = await createStation({ maxStorageBytes: 1000, maxDeliveries: 1, retention: { maxMessages: 1 } });
    await createGroups(station, ["g"]);
    const big = { pad: "k".repeat(390) };
    expect((await produce(station, { messages: [{ body: big }] })).status).toBe(200);
    await nack(station, "g", offsetsOf(await take(station, "g", "c")));
    expect((await produce(station, { messages: [{ body: 1 }] })).status).toBe(200);
    await fireAlarm(station); // retention keeps 1 message: offset 1 goes, its dead letter stays
    const resent = await api("POST", `/v1/stations/${station}/dls/resend`, { all: true });
    expect(resent.body).toMatchObject({ resent: 1 });
    const before = await snapshot(station);
    expect(before.deadLetters).toEqual([]);
    expect(before.stats).toMatchObject({ messages: 1, bytes: 1 });
    expect(before.stats.storedBytes).toBeGreaterThan(400); // the kept copy

    const res = await produce(station, { messages: [{ body: { pad: "n".repeat(690) } }] });
    expect(res.status).toBe(507);
    expect(await snapshot(station)).toEqual(before);
    // The group still gets its kept copy.
    expect((await take(station, "g", "c", 10)).map((m) => m.offset)).toEqual([1, 2]);
  });
});

describe("the storage counters", () => {
  it("follow every write of the tables beside the log, webhook copies and doc snapshots included", async () => {
    const station = await createStation();
    const seen = await inStation(station, (instance) => {
      const sql: SqlStorage = instance.ctx.storage.sql;
      const beside = () => readStorageUsage(sql);
      const steps: Record<string, unknown>[] = [];
      sql.exec("INSERT INTO webhook_queue (webhook_id, msg_offset, attempts, next_attempt_at, message) VALUES (1, 1, 0, 0, ?)", "x".repeat(40));
      sql.exec("INSERT INTO webhook_queue (webhook_id, msg_offset, attempts, next_attempt_at, message) VALUES (1, 2, 0, 0, NULL)");
      steps.push({ copies: beside().webhookCopyBytes });
      sql.exec("UPDATE webhook_queue SET message = ? WHERE msg_offset = 2", "é".repeat(10));
      steps.push({ copies: beside().webhookCopyBytes });
      sql.exec("DELETE FROM webhook_queue");
      sql.exec("INSERT INTO producers (producer, last_seq, updated_at) VALUES ('p-123', 1, 0)");
      sql.exec("INSERT INTO dedup_ids (msg_id, msg_offset, expires_at) VALUES ('abc', 1, 0)");
      steps.push({ copies: beside().webhookCopyBytes, producers: beside().producerBytes, dedup: beside().dedupBytes });
      sql.exec("DELETE FROM dedup_ids");
      steps.push({ dedup: beside().dedupBytes, total: bytesBesideLog(sql) });
      sql.exec("INSERT INTO doc_snapshot_chunks (chunk, data) VALUES (0, ?)", new Uint8Array(1000).buffer);
      steps.push({ snapshot: beside().docSnapshotBytes });
      sql.exec("DELETE FROM doc_snapshot_chunks");
      steps.push({ snapshot: beside().docSnapshotBytes });
      return steps;
    });
    expect(seen).toEqual([{ copies: 40 }, { copies: 60 }, { copies: 0, producers: 5, dedup: 3 }, { dedup: 0, total: 5 }, { snapshot: 1000 }, { snapshot: 0 }]);
  });
});

describe("the DLS's own bound", () => {
  it(`keeps the newest ${MAX_DEAD_LETTERS} dead letters, dropping and counting the oldest`, async () => {
    const station = await dlsStation({});
    for (let start = 0; start < MAX_DEAD_LETTERS + 50; start += 1000) {
      const n = Math.min(1000, MAX_DEAD_LETTERS + 50 - start);
      const res = await produce(station, { messages: Array.from({ length: n }, (_, i) => ({ body: { todo: start + i } })) });
      expect(res.status).toBe(200);
    }
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats.deadLetters).toBe(MAX_DEAD_LETTERS);
    const page = await api("GET", `/v1/stations/${station}/dls?limit=1`);
    expect(page.body.deadLetters[0].message.body).toEqual({ todo: 50 });
    expect(page.body.evicted).toBe(50);
  }, 120_000);

  it("drops the oldest letters past the byte bound as well", async () => {
    const station = await createStation();
    const left = await inStation(station, (instance) => {
      const sql: SqlStorage = instance.ctx.storage.sql;
      const letter = (n: number) => ({
        offset: null,
        group: null,
        reason: "schema_violation" as const,
        deliveries: 0,
        message: { producer: null, seq: null, id: null, key: null, headers: null, body: JSON.stringify("b".repeat(98) + n), producedAt: 0, bytes: 100 + String(n).length },
      });
      for (let n = 0; n < 10; n++) addDeadLetter(sql, letter(n), 0, { maxLetters: 100, maxBytes: 450 });
      return sql.exec<{ body: string }>("SELECT body FROM dead_letters ORDER BY id").toArray().map((row) => JSON.parse(row.body).slice(-1));
    });
    expect(left).toEqual(["6", "7", "8", "9"]);
  });
});

describe("reads are bounded by bytes", () => {
  it("cuts a replay of 1000 large messages at MAX_READ_BYTES and says where to go on", async () => {
    const station = await createStation();
    const body = (n: number) => ({ n, pad: "r".repeat(24 * KiB) });
    for (let start = 1; start <= 1000; start += 250) {
      const res = await produce(station, { messages: Array.from({ length: 250 }, (_, i) => ({ body: body(start + i) })) });
      expect(res.status).toBe(200);
    }
    const first = await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`);
    expect(first.status).toBe(200);
    const count = first.body.messages.length;
    expect(count).toBeGreaterThan(1);
    expect(count).toBeLessThan(1000);
    expect(count * JSON.stringify(body(1000)).length).toBeLessThanOrEqual(MAX_READ_BYTES);
    expect(first.body.nextOffset).toBe(count + 1);
    // Following nextOffset reads the rest, dense and once each.
    const offsets = offsetsOf(first.body.messages);
    let next = first.body.nextOffset;
    while (next <= 1000) {
      const page = await api("GET", `/v1/stations/${station}/messages?from=${next}&limit=1000`);
      expect(page.body.messages.length).toBeGreaterThan(0);
      offsets.push(...offsetsOf(page.body.messages));
      next = page.body.nextOffset;
    }
    expect(offsets).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  }, 120_000);

  it("always answers at least one message, whatever its size", async () => {
    const station = await createStation();
    await produce(station, { messages: [{ body: "a".repeat(100) }, { body: "b" }] });
    const rows = await inStation(station, (instance) => readPage(instance.ctx.storage.sql, 1, 10, 10).map((row) => row.msg_offset));
    expect(rows).toEqual([1]);
  });

  it("cuts a DLS page at MAX_READ_BYTES and gives a cursor to the next", async () => {
    const station = await dlsStation({});
    const res = await produce(station, { messages: Array.from({ length: 100 }, (_, n) => ({ body: failing(100 * KiB, n) })) });
    expect(res.status).toBe(200);
    const first = await api("GET", `/v1/stations/${station}/dls?limit=1000`);
    const count = first.body.deadLetters.length;
    expect(count).toBeGreaterThan(1);
    expect(count).toBeLessThan(100);
    expect(count * 100 * KiB).toBeLessThanOrEqual(MAX_READ_BYTES);
    expect(first.body.next).toBe(first.body.deadLetters.at(-1).id);
    const seen = first.body.deadLetters.map((l: any) => l.message.body.todo);
    let after = first.body.next;
    while (after !== null) {
      const page = await api("GET", `/v1/stations/${station}/dls?limit=1000&after=${after}`);
      seen.push(...page.body.deadLetters.map((l: any) => l.message.body.todo));
      after = page.body.next;
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, n) => n));
  }, 120_000);

  it("splits letters into chunks of at most the byte bound, at least one letter each", () => {
    const sizes = [5, 5, 5, 20, 1, 1, 9].map((bytes, i) => ({ id: i + 1, bytes }));
    expect(chunksOf(sizes, 10)).toEqual([[1, 2], [3], [4], [5, 6], [7]]);
    expect(chunksOf([], 10)).toEqual([]);
  });

  it("resends all of many large dead letters, loading their bodies in bounded chunks", async () => {
    const station = await createStation({ maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    const big = (n: number) => ({ n, pad: "d".repeat(1000 * KiB) });
    for (let n = 1; n <= 12; n += 4) {
      expect((await produce(station, { messages: [0, 1, 2, 3].map((i) => ({ body: big(n + i) })) })).status).toBe(200);
    }
    for (let round = 0; round < 12; round++) {
      const got = await take(station, "g", "c", 12);
      if (got.length === 0) break;
      await nack(station, "g", offsetsOf(got));
    }
    expect((await api("GET", `/v1/stations/${station}`)).body.stats.deadLetters).toBe(12);

    // Inside the object: every load of whole letters holds at most the chunk bound (or one letter).
    const loads = await inStation(station, (instance) => {
      const sql: SqlStorage = instance.ctx.storage.sql;
      const loaded: number[] = [];
      const watched = {
        exec: (query: string, ...params: unknown[]) => {
          const cursor = sql.exec(query, ...(params as SqlStorageValue[]));
          if (!query.startsWith("SELECT * FROM dead_letters")) return cursor;
          const rows = cursor.toArray() as DeadLetterRow[];
          loaded.push(rows.reduce((sum, row) => sum + row.bytes, 0));
          return { toArray: () => rows };
        },
      } as unknown as SqlStorage;
      const seen: number[] = [];
      const outcome = resendDeadLetters(watched, { all: true }, (row) => (seen.push(contentOfRow(row).bytes), fail(ErrorCode.NotResendable, "dry run")), {
        maxLetters: 1000,
        maxBytes: 64 * 1024 * KiB,
        chunkBytes: 3 * 1024 * KiB,
      });
      return { loaded, seen: seen.length, refused: outcome.refused.length };
    });
    expect(loads.seen).toBe(12);
    expect(loads.refused).toBe(12);
    expect(loads.loaded.length).toBeGreaterThanOrEqual(4);
    for (const bytes of loads.loaded) expect(bytes).toBeLessThanOrEqual(3 * 1024 * KiB);

    const res = await api("POST", `/v1/stations/${station}/dls/resend`, { all: true });
    expect(res.body).toEqual({ resent: 12, missing: [], refused: [], more: false });
    const again: number[] = [];
    for (let round = 0; round < 12 && again.length < 12; round++) again.push(...offsetsOf(await take(station, "g", "c", 12)));
    expect(again.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  }, 120_000);
});
