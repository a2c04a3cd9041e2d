// The station log against the wire contract (docs/http-api.md, "Produce"; docs/errors.md):
// produce, exactly-once per producer, replay, stats, limits and every error code, retention by
// alarm, durability across restarts.
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { ADMIN_TOKEN, api, createStation, produce, seqBatch, uniqueStation } from "./helpers";

const stationStub = (name: string) => env.STATION.get(env.STATION.idFromName(name));

async function readAll(station: string, from = 1) {
  const res = await api("GET", `/v1/stations/${station}/messages?from=${from}&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.messages as any[];
}

describe("stations", () => {
  it("creates with 201, updates with 200, and describes config with defaults and stats", async () => {
    const name = uniqueStation();
    const created = await api("PUT", `/v1/stations/${name}`, { retention: { maxMessages: 100 } });
    expect(created.status).toBe(201);
    expect(created.body.config).toMatchObject({ maxMessageBytes: 1048576, dedupWindowMs: 120000, retention: { maxMessages: 100 } });
    const updated = await api("PUT", `/v1/stations/${name}`, { maxMessageBytes: 1000 });
    expect(updated.status).toBe(200);
    const info = await api("GET", `/v1/stations/${name}`);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      name,
      config: { maxMessageBytes: 1000 },
      stats: { firstOffset: 1, lastOffset: 0, messages: 0, bytes: 0 },
      groups: [],
    });
  });

  it("accepts an empty PUT body as all defaults", async () => {
    const name = uniqueStation();
    const res = await api("PUT", `/v1/stations/${name}`);
    expect(res.status).toBe(201);
    expect(res.body.config.ackTimeoutMs).toBe(30000);
  });

  it("lists created stations and forgets deleted ones", async () => {
    const name = await createStation();
    expect((await api("GET", "/v1/stations")).body.stations.map((s: any) => s.name)).toContain(name);
    const deleted = await api("DELETE", `/v1/stations/${name}`);
    expect(deleted.status).toBe(200);
    expect((await api("GET", "/v1/stations")).body.stations.map((s: any) => s.name)).not.toContain(name);
    expect((await api("GET", `/v1/stations/${name}`)).body.error.code).toBe("station_not_found");
  });

  it("starts a re-created station empty", async () => {
    const name = await createStation();
    await produce(name, { producer: "p", messages: seqBatch(1, 3) });
    await api("DELETE", `/v1/stations/${name}`);
    await createStation({}, name);
    expect(await readAll(name)).toEqual([]);
    const res = await produce(name, { producer: "p", messages: seqBatch(1, 1) });
    expect(res.body.results[0]).toEqual({ seq: 1, partition: 0, offset: 1, duplicate: false });
  });

  it("refuses invalid config with 422 and a path", async () => {
    const res = await api("PUT", `/v1/stations/${uniqueStation()}`, { ackTimeoutMs: 5 });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.issues[0].path).toBe("ackTimeoutMs");
  });

  it("refuses unknown config fields", async () => {
    const res = await api("PUT", `/v1/stations/${uniqueStation()}`, { retentoin: {} });
    expect(res.status).toBe(422);
  });
});

describe("produce", () => {
  it("assigns dense offsets in batch order and reads them back with the contract fields", async () => {
    const station = await createStation();
    const res = await produce(station, {
      producer: "01JPRODUCER",
      messages: [
        { seq: 1, body: { todo: "milk" }, headers: { k: "v" }, key: "user-7" },
        { seq: 2, body: "two" },
        { seq: 3, body: null },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      results: [
        { seq: 1, partition: 0, offset: 1, duplicate: false },
        { seq: 2, partition: 0, offset: 2, duplicate: false },
        { seq: 3, partition: 0, offset: 3, duplicate: false },
      ],
      partitions: 1,
    });
    const messages = await readAll(station);
    expect(messages[0]).toMatchObject({
      offset: 1,
      producer: "01JPRODUCER",
      seq: 1,
      key: "user-7",
      headers: { k: "v" },
      body: { todo: "milk" },
      deliveries: 0,
    });
    expect(typeof messages[0].producedAt).toBe("number");
    expect(messages.map((m) => m.body)).toEqual([{ todo: "milk" }, "two", null]);
  });

  it("answers a resent batch with the original offsets marked duplicate, storing nothing", async () => {
    const station = await createStation();
    const first = await produce(station, { producer: "p", messages: seqBatch(1, 3) });
    const again = await produce(station, { producer: "p", messages: seqBatch(1, 3) });
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual(first.body.results.map((r: any) => ({ ...r, duplicate: true })));
    expect(await readAll(station)).toHaveLength(3);
  });

  it("stores the new tail of a batch that overlaps what was stored", async () => {
    const station = await createStation();
    await produce(station, { producer: "p", messages: seqBatch(1, 2) });
    const res = await produce(station, { producer: "p", messages: seqBatch(2, 3) });
    expect(res.body.results).toEqual([
      { seq: 2, partition: 0, offset: 2, duplicate: true },
      { seq: 3, partition: 0, offset: 3, duplicate: false },
      { seq: 4, partition: 0, offset: 4, duplicate: false },
    ]);
  });

  it("refuses a batch that skips ahead with 409 seq_gap naming the seq to resume from", async () => {
    const station = await createStation();
    await produce(station, { producer: "p", messages: seqBatch(1, 3) });
    const res = await produce(station, { producer: "p", messages: seqBatch(6, 2) });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "seq_gap", expectedSeq: 4, receivedSeq: 6, producer: "p" });
    expect(await readAll(station)).toHaveLength(3);
    const resumed = await produce(station, { producer: "p", messages: seqBatch(4, 1) });
    expect(resumed.body.results[0]).toEqual({ seq: 4, partition: 0, offset: 4, duplicate: false });
  });

  it("expects seq 1 from a new producer", async () => {
    const station = await createStation();
    const res = await produce(station, { producer: "fresh", messages: seqBatch(2, 1) });
    expect(res.status).toBe(409);
    expect(res.body.error.expectedSeq).toBe(1);
  });

  it("keeps producers independent and interleaves them in arrival order", async () => {
    const station = await createStation();
    await produce(station, { producer: "a", messages: seqBatch(1, 2) });
    await produce(station, { producer: "b", messages: seqBatch(1, 1) });
    await produce(station, { producer: "a", messages: seqBatch(3, 1) });
    const messages = await readAll(station);
    expect(messages.map((m) => `${m.producer}:${m.seq}@${m.offset}`)).toEqual(["a:1@1", "a:2@2", "b:1@3", "a:3@4"]);
  });

  it("refuses seqs that do not increase by one within a batch, storing nothing", async () => {
    const station = await createStation();
    const res = await produce(station, { producer: "p", messages: [{ seq: 1, body: 1 }, { seq: 3, body: 3 }] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_request");
    expect(await readAll(station)).toHaveLength(0);
  });

  it("refuses seq without producer, and mixed sequenced and unsequenced messages", async () => {
    const station = await createStation();
    expect((await produce(station, { messages: [{ seq: 1, body: 1 }] })).status).toBe(422);
    expect((await produce(station, { producer: "p", messages: [{ seq: 1, body: 1 }, { body: 2 }] })).status).toBe(422);
  });

  it("deduplicates server-side messages by id within the window", async () => {
    const station = await createStation();
    const first = await produce(station, { messages: [{ id: "order-1", body: 1 }, { id: "order-1", body: 1 }, { body: 2 }] });
    expect(first.body.results).toEqual([
      { seq: null, partition: 0, offset: 1, duplicate: false },
      { seq: null, partition: 0, offset: 1, duplicate: true },
      { seq: null, partition: 0, offset: 2, duplicate: false },
    ]);
    const again = await produce(station, { messages: [{ id: "order-1", body: 1 }] });
    expect(again.body.results).toEqual([{ seq: null, partition: 0, offset: 1, duplicate: true }]);
    expect(await readAll(station)).toHaveLength(2);
  });

  it("forgets ids after dedupWindowMs (pruned by the alarm)", async () => {
    const station = await createStation({ dedupWindowMs: 1 });
    await produce(station, { messages: [{ id: "x", body: 1 }] });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await runDurableObjectAlarm(stationStub(station));
    const again = await produce(station, { messages: [{ id: "x", body: 1 }] });
    expect(again.body.results).toEqual([{ seq: null, partition: 0, offset: 2, duplicate: false }]);
    const rows = await runInDurableObject(stationStub(station), (_instance, state) =>
      state.storage.sql.exec("SELECT count(*) AS n FROM dedup_ids").one(),
    );
    expect(rows.n).toBe(1);
  });

  it("answers 404 station_not_found for a station never created, creating nothing", async () => {
    const name = uniqueStation();
    const res = await produce(name, { producer: "p", messages: seqBatch(1, 1) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("station_not_found");
    expect((await api("GET", `/v1/stations/${name}`)).status).toBe(404);
    expect((await api("GET", `/v1/stations/${name}/messages`)).status).toBe(404);
  });
});

describe("limits and malformed input", () => {
  it("refuses a whole batch without seq holding one message over maxMessageBytes with 413", async () => {
    const station = await createStation({ maxMessageBytes: 100 });
    const res = await produce(station, { messages: [{ body: "ok" }, { body: "x".repeat(200) }] });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: "message_too_large", index: 1, maxMessageBytes: 100 });
    expect(await readAll(station)).toHaveLength(0);
    const next = await produce(station, { producer: "p", messages: seqBatch(1, 1) });
    expect(next.body.results[0].offset).toBe(1);
  });

  it("rules a sequenced message over maxMessageBytes refused, its seq consumed, and stores the rest", async () => {
    const station = await createStation({ maxMessageBytes: 100 });
    const res = await produce(station, { producer: "p", messages: [{ seq: 1, body: "ok" }, { seq: 2, body: "x".repeat(200) }] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toEqual({ seq: 1, partition: 0, offset: 1, duplicate: false });
    expect(res.body.results[1]).toMatchObject({ seq: 2, partition: 0, offset: null, duplicate: false, refused: { code: "message_too_large", maxMessageBytes: 100 } });
    expect(await readAll(station)).toHaveLength(1);
    const next = await produce(station, { producer: "p", messages: seqBatch(3, 1) });
    expect(next.body.results[0]).toEqual({ seq: 3, partition: 0, offset: 2, duplicate: false });
  });

  it("counts body bytes as UTF-8 of the encoded JSON", async () => {
    const station = await createStation({ maxMessageBytes: 8 });
    expect((await produce(station, { messages: [{ body: "ééé" }] })).status).toBe(200); // "\"ééé\"" = 8 bytes
    expect((await produce(station, { messages: [{ body: "éééé" }] })).status).toBe(413);
  });

  it("refuses a batch of more than 1,000 messages with 413", async () => {
    const station = await createStation();
    const res = await produce(station, { producer: "p", messages: seqBatch(1, 1001) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    expect((await produce(station, { producer: "p", messages: seqBatch(1, 1000) })).status).toBe(200);
  });

  it("refuses too many or too large headers with 413", async () => {
    const station = await createStation();
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, "v"]));
    expect((await produce(station, { messages: [{ body: 1, headers: many }] })).status).toBe(413);
    const big = { a: "x".repeat(4000), b: "x".repeat(4000), c: "x".repeat(4000), d: "x".repeat(4000), e: "x".repeat(1000) };
    expect((await produce(station, { messages: [{ body: 1, headers: big }] })).status).toBe(413);
    expect((await produce(station, { messages: [{ body: 1, headers: { "bad name": "v" } }] })).status).toBe(422);
  });

  it("refuses an empty batch and a message without body with 422; rules a sequenced one refused", async () => {
    const station = await createStation();
    expect((await produce(station, { messages: [] })).status).toBe(422);
    expect((await produce(station, { producer: "p", messages: [] })).status).toBe(422);
    expect((await produce(station, { messages: [{}] })).status).toBe(422);
    const sequenced = await produce(station, { messages: [{ seq: 1 }], producer: "p" });
    expect(sequenced.status).toBe(200);
    expect(sequenced.body.results).toEqual([{ seq: 1, partition: 0, offset: null, duplicate: false, refused: expect.objectContaining({ code: "invalid_request" }) }]);
    expect(await readAll(station)).toHaveLength(0);
  });

  it("refuses a body that is not JSON with 400 invalid_json", async () => {
    const station = await createStation();
    const res = await api("POST", `/v1/stations/${station}/messages`, undefined, {
      raw: '{"messages": [',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
  });

  it("refuses a body that is not application/json with 415", async () => {
    const station = await createStation();
    const res = await api("POST", `/v1/stations/${station}/messages`, undefined, {
      raw: '{"messages":[{"body":1}]}',
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("unsupported_media_type");
  });

  it("refuses invalid station names with 400 invalid_name", async () => {
    for (const bad of ["Orders", "-x", "a".repeat(129), "a%20b", "%C3%A9"]) {
      const res = await api("PUT", `/v1/stations/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe("invalid_name");
    }
  });

  it("refuses invalid producer ids with 422", async () => {
    const station = await createStation();
    expect((await produce(station, { producer: "has space", messages: seqBatch(1, 1) })).status).toBe(422);
    expect((await produce(station, { producer: "x".repeat(129), messages: seqBatch(1, 1) })).status).toBe(422);
  });

  it("refuses bad replay queries with 422", async () => {
    const station = await createStation();
    expect((await api("GET", `/v1/stations/${station}/messages?from=0`)).status).toBe(422);
    expect((await api("GET", `/v1/stations/${station}/messages?from=abc`)).status).toBe(422);
    expect((await api("GET", `/v1/stations/${station}/messages?limit=1001`)).status).toBe(422);
  });

  it("answers unknown routes with 404 and the error JSON", async () => {
    const res = await api("GET", "/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("auth", () => {
  it("refuses a missing or wrong token with 401 unauthorized", async () => {
    const station = await createStation();
    expect((await api("GET", `/v1/stations/${station}`, undefined, { token: null })).body.error.code).toBe("unauthorized");
    const wrong = await api("GET", `/v1/stations/${station}`, undefined, { token: "not-the-admin-token-at-all" });
    expect(wrong.status).toBe(401);
  });

  it("refuses every /v1 request with 503 not_configured when ADMIN_TOKEN is missing (fail closed)", async () => {
    const app = buildApp();
    const bare = { ...env, ADMIN_TOKEN: undefined };
    const res = await app.fetch(
      new Request("https://w.test/v1/stations", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      bare,
      { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext,
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.code).toBe("not_configured");
  });
});

describe("replay", () => {
  it("reads from an offset with a limit and says where to continue", async () => {
    const station = await createStation();
    await produce(station, { producer: "p", messages: seqBatch(1, 10) });
    const page = await api("GET", `/v1/stations/${station}/messages?from=4&limit=3`);
    expect(page.body.messages.map((m: any) => m.offset)).toEqual([4, 5, 6]);
    expect(page.body.nextOffset).toBe(7);
    const end = await api("GET", `/v1/stations/${station}/messages?from=11`);
    expect(end.body).toEqual({ messages: [], nextOffset: 11 });
  });
});

describe("retention", () => {
  it("trims to maxMessages on the alarm and never reuses offsets", async () => {
    const station = await createStation({ retention: { maxMessages: 5 } });
    await produce(station, { producer: "p", messages: seqBatch(1, 12) });
    // The alarm is due at once and may already have fired by itself; either way it has run after this.
    await runDurableObjectAlarm(stationStub(station));
    const messages = await readAll(station);
    expect(messages.map((m) => m.offset)).toEqual([8, 9, 10, 11, 12]);
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats).toMatchObject({ firstOffset: 8, lastOffset: 12, messages: 5 });
    const next = await produce(station, { producer: "p", messages: seqBatch(13, 1) });
    expect(next.body.results[0].offset).toBe(13);
  });

  it("trims to maxBytes on the alarm", async () => {
    const station = await createStation({ retention: { maxBytes: 100 } });
    await produce(station, { producer: "p", messages: seqBatch(1, 10, () => "x".repeat(18)) }); // 20 bytes each
    await runDurableObjectAlarm(stationStub(station));
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats.bytes).toBeLessThanOrEqual(100);
    expect(info.body.stats).toMatchObject({ messages: 5, firstOffset: 6, lastOffset: 10 });
  });

  it("trims messages older than maxAgeMs on the alarm", async () => {
    const station = await createStation({ retention: { maxAgeMs: 1 } });
    await produce(station, { producer: "p", messages: seqBatch(1, 3) });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await runDurableObjectAlarm(stationStub(station));
    expect(await readAll(station)).toEqual([]);
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats).toMatchObject({ firstOffset: 4, lastOffset: 3, messages: 0, bytes: 0 });
  });

  it("answers a resend of trimmed messages as duplicates without storing them again", async () => {
    const station = await createStation({ retention: { maxMessages: 1 } });
    await produce(station, { producer: "p", messages: seqBatch(1, 3) });
    await runDurableObjectAlarm(stationStub(station));
    const again = await produce(station, { producer: "p", messages: seqBatch(1, 3) });
    expect(again.body.results).toEqual([
      { seq: 1, partition: 0, offset: null, duplicate: true },
      { seq: 2, partition: 0, offset: null, duplicate: true },
      { seq: 3, partition: 0, offset: 3, duplicate: true },
    ]);
    expect((await readAll(station)).map((m) => m.offset)).toEqual([3]);
  });
});

describe("durability", () => {
  it("keeps the log, producers and counters across an object restart", async () => {
    const station = await createStation();
    await produce(station, { producer: "p", messages: seqBatch(1, 5) });
    await evictDurableObject(stationStub(station));
    const resent = await produce(station, { producer: "p", messages: seqBatch(4, 3) });
    expect(resent.body.results).toEqual([
      { seq: 4, partition: 0, offset: 4, duplicate: true },
      { seq: 5, partition: 0, offset: 5, duplicate: true },
      { seq: 6, partition: 0, offset: 6, duplicate: false },
    ]);
    const info = await api("GET", `/v1/stations/${station}`);
    expect(info.body.stats).toMatchObject({ firstOffset: 1, lastOffset: 6, messages: 6 });
  });

  it("keeps offsets dense and seqs increasing in storage", async () => {
    const station = await createStation();
    for (let i = 0; i < 5; i++) await produce(station, { producer: "p", messages: seqBatch(i * 20 + 1, 20) });
    const rows = await runInDurableObject(stationStub(station), (_instance, state) =>
      state.storage.sql.exec<{ msg_offset: number; seq: number }>("SELECT msg_offset, seq FROM messages ORDER BY msg_offset").toArray(),
    );
    rows.forEach((row, i) => {
      expect(row.msg_offset).toBe(i + 1);
      expect(row.seq).toBe(i + 1);
    });
  });
});
