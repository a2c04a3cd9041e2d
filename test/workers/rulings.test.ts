// Exactly once, for real (invariant 2): the station rules on each (producer, seq) once, durably —
// stored, dead-lettered or refused with the seq consumed — and answers every resend with that
// ruling, before any check that could answer differently now (size, schema, rate, quota).
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeBinaryBody } from "../../shared/binary";
import { createDocStation, readDoc, recordingDoc, textOf } from "./docs-helpers";
import { api, createStation, produce, seqBatch } from "./helpers";
import { addVersion, stationStub, stationWithSchema, TODO_V1, TODO_V2, uniqueSchema } from "./schemas-helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

async function readLog(station: string) {
  const res = await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.messages as Array<{ offset: number; producer: string; seq: number; id: string | null; body: unknown; headers: Record<string, string> }>;
}

/** A produce with a raw JSON text body: for numbers and keys JSON.stringify cannot write. */
function produceRaw(station: string, text: string) {
  return api("POST", `/v1/stations/${station}/messages`, undefined, { raw: text, headers: { "content-type": "application/json" } });
}

const asDuplicate = (results: any[]) => results.map((result) => ({ ...result, duplicate: true }));

describe("a seq is ruled once: resends get the same ruling whatever changed since", () => {
  it("answers a stored seq resent after maxMessageBytes was lowered as a duplicate with its offset", async () => {
    const station = await createStation();
    const batch = { producer: "p", messages: seqBatch(1, 2, (seq) => ({ text: "x".repeat(200), seq })) };
    const first = await produce(station, batch);
    expect(first.status).toBe(200);
    expect((await api("PUT", `/v1/stations/${station}`, { maxMessageBytes: 50 })).status).toBe(200);
    const resent = await produce(station, batch);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: true },
      { seq: 2, partition: 0, offset: 2, duplicate: true },
    ]);
    expect(await readLog(station)).toHaveLength(2);
  });

  it("answers a stored seq resent after the schema changed with its offset, and a refused one with its refusal", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest");
    const batch = { producer: "p", messages: [{ seq: 1, body: { todo: "milk" } }, { seq: 2, body: { todo: "eggs", done: true } }] };
    const first = await produce(station, batch);
    expect(first.status).toBe(200);
    expect(first.body.results[0]).toEqual({ seq: 1, partition: 0, offset: 1, duplicate: false });
    expect(first.body.results[1]).toMatchObject({ seq: 2, partition: 0, offset: null, duplicate: false, refused: { code: "schema_violation" } });
    // v2 would refuse seq 1 and take seq 2: the resend still gets the first rulings.
    await addVersion(schema, TODO_V2, "none"); // a stricter v2: only the "none" rule lets it in
    const resent = await produce(station, batch);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual(asDuplicate(first.body.results));
    expect((await readLog(station)).map((m) => m.seq)).toEqual([1]);
  });

  it("answers a dead-lettered seq as dead-lettered after dls.onSchemaFailure was turned off", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1, { dls: { onSchemaFailure: true } });
    const batch = { producer: "p", messages: [{ seq: 1, body: { todo: 1 } }] };
    const first = await produce(station, batch);
    expect(first.body.results).toEqual([{ seq: 1, partition: 0, offset: null, duplicate: false, deadLettered: true }]);
    expect((await api("PUT", `/v1/stations/${station}`, { schema: { name: schema, version: 1 } })).status).toBe(200);
    expect((await produce(station, batch)).body.results).toEqual([{ seq: 1, partition: 0, offset: null, duplicate: true, deadLettered: true }]);
  });

  it("answers a refused seq resent after the object restarts with the same refusal and duplicate: true", async () => {
    const station = await createStation({ maxMessageBytes: 50 });
    const batch = { producer: "p", messages: [{ seq: 1, body: "x".repeat(100) }, { seq: 2, body: "ok" }] };
    const first = await produce(station, batch);
    expect(first.status).toBe(200);
    await evictDurableObject(stationStub(station));
    // Raising the limit changes nothing for the seq already ruled.
    expect((await api("PUT", `/v1/stations/${station}`, { maxMessageBytes: 1000 })).status).toBe(200);
    const resent = await produce(station, batch);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual(asDuplicate(first.body.results));
    const rows = await runInDurableObject(stationStub(station), (_instance, state) =>
      state.storage.sql.exec("SELECT producer, seq, code FROM refusals").toArray(),
    );
    expect(rows).toEqual([{ producer: "p", seq: 1, code: "message_too_large" }]);
  });

  it("answers an all-duplicate batch while the station is over its rate, and refuses a new seq with 429", async () => {
    const station = await createStation({ rateLimit: { requestsPerSecond: 1 } });
    const batch = { producer: "p", messages: seqBatch(1, 2) };
    expect((await produce(station, batch)).status).toBe(200);
    // Spend the burst (two seconds' worth) and more.
    const spent = await Promise.all(Array.from({ length: 5 }, () => api("GET", `/v1/stations/${station}/messages?from=1`)));
    expect(spent.some((res) => res.status === 429)).toBe(true);
    const resent = await produce(station, batch);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: true },
      { seq: 2, partition: 0, offset: 2, duplicate: true },
    ]);
    // A batch with a new seq is not a resend: 429, not a ruling, and nothing stored.
    const overlapping = await produce(station, { producer: "p", messages: seqBatch(2, 2) });
    expect(overlapping.status).toBe(429);
    expect(overlapping.body.error.code).toBe("rate_limited");
  });

  it("answers an all-duplicate batch when the station is over its quota, and 507s a batch with new seqs", async () => {
    const station = await createStation({ maxStorageBytes: 150 });
    const body = (seq: number) => ({ pad: "x".repeat(30), seq });
    const batch = { producer: "p", messages: seqBatch(1, 3, body) };
    const first = await produce(station, batch);
    expect(first.status).toBe(200);
    expect((await produce(station, { producer: "p", messages: seqBatch(3, 3, body) })).status).toBe(507);
    expect((await produce(station, batch)).body.results).toEqual(asDuplicate(first.body.results));
    // The 507 ruled nothing: seq 4 is still expected.
    expect((await produce(station, { producer: "p", messages: seqBatch(5, 1) })).body.error).toMatchObject({ code: "seq_gap", expectedSeq: 4 });
  });
});

describe("a sequenced batch is ruled message by message, in one transaction", () => {
  it("refuses an oversize message with message_too_large, consumes its seq and stores the rest in order", async () => {
    const station = await createStation({ maxMessageBytes: 100 });
    const res = await produce(station, {
      producer: "p",
      messages: [
        { seq: 1, body: "ok" },
        { seq: 2, body: "x".repeat(200) },
        { seq: 3, body: "fine" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: false },
      {
        seq: 2,
        partition: 0,
        offset: null,
        duplicate: false,
        refused: { code: "message_too_large", message: expect.stringMatching(/202 bytes.*100/), bytes: 202, maxMessageBytes: 100 },
      },
      { seq: 3, partition: 0, offset: 2, duplicate: false },
    ]);
    expect((await readLog(station)).map((m) => [m.seq, m.body])).toEqual([
      [1, "ok"],
      [3, "fine"],
    ]);
    // The refused seq is consumed: the producer goes on at 4, and 2 is never stored later.
    const next = await produce(station, { producer: "p", messages: seqBatch(4, 1) });
    expect(next.body.results).toEqual([{ seq: 4, partition: 0, offset: 3, duplicate: false }]);
  });

  it("counts refusals in the station's stored bytes (the storage quota), not in the log's", async () => {
    const station = await createStation({ maxMessageBytes: 50 });
    const stats = async () => (await api("GET", `/v1/stations/${station}`)).body.stats;
    const before = await stats();
    const res = await produce(station, { producer: "p", messages: [{ seq: 1, id: "action-1", body: "x".repeat(100) }] });
    const refusal = res.body.results[0].refused;
    const after = await stats();
    expect(after.bytes).toBe(before.bytes);
    expect(after.messages).toBe(0);
    expect(after.storedBytes - before.storedBytes).toBeGreaterThanOrEqual(refusal.message.length + "action-1".length);
  });

  it("refuses a message failing the schema with schema_violation and its details, storing the others", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1);
    const res = await produce(station, { producer: "p", messages: [{ seq: 1, body: { todo: "a" } }, { seq: 2, body: { todo: 5 } }, { seq: 3, body: { todo: "c" } }] });
    expect(res.status).toBe(200);
    expect(res.body.results[1]).toEqual({
      seq: 2,
      partition: 0,
      offset: null,
      duplicate: false,
      refused: {
        code: "schema_violation",
        message: expect.stringMatching(new RegExp(`Seq 2 fails schema ${schema} v1 at /todo`)),
        schema: { name: schema, version: 1 },
        violations: [{ seq: 2, path: "/todo", keyword: "type", schemaPath: "/properties/todo/type", reason: expect.any(String) }],
        violationCount: 1,
      },
    });
    expect((await readLog(station)).map((m) => m.seq)).toEqual([1, 3]);
    // The kept refusal repeats at most a bounded part of a (long) key of the body.
    const longKey = await produce(station, { producer: "p", messages: [{ seq: 4, body: { todo: "a", ["k".repeat(100_000)]: 1 } }] });
    expect(longKey.body.results[0].refused.code).toBe("schema_violation");
    expect(longKey.body.results[0].refused.violations[0].path).toMatch(/^\/kkkk/);
    expect(JSON.stringify(longKey.body.results[0].refused).length).toBeLessThan(2000);
  });

  it("refuses an update a doc station cannot merge with invalid_doc_update, storing the valid ones", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "a");
    doc.getText("t").insert(1, "b");
    const res = await produce(station, {
      producer: "p",
      messages: [
        { seq: 1, body: encodeBinaryBody(updates[0]!) },
        { seq: 2, body: { text: "not an update" } },
        { seq: 3, body: encodeBinaryBody(new Uint8Array([7, 200, 1, 2])) },
        { seq: 4, body: encodeBinaryBody(updates[1]!) },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.refused?.code ?? r.offset)).toEqual([1, "invalid_doc_update", "invalid_doc_update", 2]);
    expect(textOf((await readDoc(station)).update)).toBe("ab");
  });

  it("refuses a message breaking the per-message contract with invalid_request and issues inside the message", async () => {
    const station = await createStation();
    let deep: unknown = 1;
    for (let i = 0; i < 130; i++) deep = [deep];
    const res = await produce(station, {
      producer: "p",
      messages: [
        { seq: 1, body: "ok" },
        { seq: 2, body: 1, headers: { "bad name": "v" } },
        { seq: 3, body: 1, key: 7 },
        { seq: 4 },
        { seq: 5, body: 1, colour: "red" },
        { seq: 6, body: deep },
        { seq: 7, body: 1, headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, "v"])) },
        { seq: 8, body: "fine" },
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.results;
    expect(results.map((r: any) => r.refused?.code ?? r.offset)).toEqual([1, ...Array(6).fill("invalid_request"), 2]);
    expect(results[1].refused.issues[0].path).toBe("headers.bad name");
    expect(results[2].refused.issues[0].path).toBe("key");
    expect(results[3].refused.issues[0].message).toMatch(/body/);
    expect(results[4].refused.issues[0].path).toBe("colour");
    expect(results[5].refused.issues[0].path).toBe("body");
    expect(results[1].refused.message).toMatch(/^Seq 2: /);
    // A refusal is kept for good: what it repeats of the sender's keys is bounded.
    const longName = await produce(station, { producer: "p", messages: [{ seq: 9, body: 1, headers: { ["x y".repeat(100_000)]: "v" } }] });
    expect(longName.body.results[0].refused.code).toBe("invalid_request");
    expect(JSON.stringify(longName.body.results[0].refused).length).toBeLessThan(2000);
    expect((await readLog(station)).map((m) => m.body)).toEqual(["ok", "fine"]);
  });

  it("refuses a sequenced body holding 1e400 and a __proto__ header with invalid_request, storing the rest", async () => {
    const station = await createStation();
    const res = await produceRaw(
      station,
      `{"producer":"p","messages":[{"seq":1,"body":{"n":1e400}},{"seq":2,"body":1,"headers":{"__proto__":"x"}},{"seq":3,"body":{"n":-1e999}},{"seq":4,"body":{"n":1e300}}]}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.refused?.code ?? r.offset)).toEqual(["invalid_request", "invalid_request", "invalid_request", 1]);
    expect(res.body.results[0].refused.issues).toEqual([{ path: "body.n", message: expect.stringMatching(/too large/) }]);
    expect(res.body.results[1].refused.issues).toEqual([{ path: "headers.__proto__", message: expect.stringMatching(/reserved/) }]);
    expect((await readLog(station)).map((m) => m.body)).toEqual([{ n: 1e300 }]);
  });

  it("refuses a batch without seq holding 1e400 or a __proto__ header whole with 422, storing nothing", async () => {
    const station = await createStation();
    const number = await produceRaw(station, `{"messages":[{"body":"ok"},{"body":[1,2e400]}]}`);
    expect(number.status).toBe(422);
    expect(number.body.error).toMatchObject({ code: "invalid_request", issues: [{ path: "messages.1.body.1" }] });
    const header = await produceRaw(station, `{"messages":[{"body":"ok","headers":{"__proto__":"v","a":"b"}}]}`);
    expect(header.status).toBe(422);
    expect(header.body.error).toMatchObject({ code: "invalid_request", issues: [{ path: "messages.0.headers.__proto__" }] });
    expect(await readLog(station)).toEqual([]);
  });

  it("keeps whole-batch refusals for the envelope of a sequenced batch", async () => {
    const station = await createStation();
    expect((await produce(station, { producer: "p", messages: [{ seq: 1, body: 1 }, { seq: 1.5, body: 2 }] })).status).toBe(422);
    expect((await produce(station, { producer: "p", messages: [{ seq: 1, body: 1 }, "text"] })).status).toBe(422);
    expect((await produce(station, { producer: "p", messages: [{ seq: 1, body: 1 }], extra: true })).status).toBe(422);
    expect((await produce(station, { producer: "bad id!", messages: [{ seq: 1, body: 1 }] })).status).toBe(422);
    expect((await produce(station, { producer: "p", messages: seqBatch(1, 1001) })).status).toBe(413);
    expect(await readLog(station)).toEqual([]);
    expect((await produce(station, { producer: "p", messages: seqBatch(1, 1) })).body.results).toEqual([{ seq: 1, partition: 0, offset: 1, duplicate: false }]);
  });
});

describe("producer identity", () => {
  it("answers 409 seq_conflict when a ruled seq comes back with another action id, storing nothing of the batch", async () => {
    const station = await createStation({ maxMessageBytes: 50 });
    const first = await produce(station, {
      producer: "p",
      messages: [
        { seq: 1, id: "a1", body: 1 },
        { seq: 2, id: "a2", body: "x".repeat(100) },
      ],
    });
    expect(first.body.results.map((r: any) => r.refused?.code ?? r.offset)).toEqual([1, "message_too_large"]);
    // The same actions again: duplicates.
    const same = await produce(station, { producer: "p", messages: [{ seq: 1, id: "a1", body: 1 }, { seq: 2, id: "a2", body: 2 }] });
    expect(same.body.results.map((r: any) => r.duplicate)).toEqual([true, true]);
    // Another writer's seq 2 (a restored backup), with a new seq 3 behind it.
    const other = await produce(station, { producer: "p", messages: [{ seq: 2, id: "b2", body: 2 }, { seq: 3, id: "b3", body: 3 }] });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "seq_conflict", producer: "p", seq: 2, expectedSeq: 3 });
    expect((await readLog(station)).map((m) => m.seq)).toEqual([1]);
    // The stored message keeps its action id.
    expect((await readLog(station))[0]!.id).toBe("a1");
  });

  it("answers seq_conflict against a dead-lettered seq, and treats a missing id on either side as a duplicate", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, 1, { dls: { onSchemaFailure: true } });
    await produce(station, { producer: "p", messages: [{ seq: 1, id: "a1", body: { todo: 1 } }, { seq: 2, body: { todo: "b" } }] });
    const conflict = await produce(station, { producer: "p", messages: [{ seq: 1, id: "z", body: { todo: 1 } }] });
    expect(conflict.body.error).toMatchObject({ code: "seq_conflict", seq: 1 });
    const noId = await produce(station, { producer: "p", messages: [{ seq: 1, body: { todo: 1 } }, { seq: 2, id: "new", body: { todo: "b" } }] });
    expect(noId.body.results).toEqual([
      { seq: 1, partition: 0, offset: null, duplicate: true, deadLettered: true },
      { seq: 2, partition: 0, offset: 1, duplicate: true },
    ]);
  });

  it("keeps sequenced ids out of the dedup window of producers without seq", async () => {
    const station = await createStation();
    await produce(station, { producer: "p", messages: [{ seq: 1, id: "shared", body: 1 }] });
    const unsequenced = await produce(station, { messages: [{ id: "shared", body: 2 }] });
    expect(unsequenced.body.results).toEqual([{ seq: null, partition: 0, offset: 2, duplicate: false }]);
  });

  it("answers seq_gap with expectedSeq 1 once the station was deleted and created again", async () => {
    const station = await createStation();
    expect((await produce(station, { producer: "p", messages: seqBatch(1, 5) })).status).toBe(200);
    expect((await api("DELETE", `/v1/stations/${station}`)).status).toBe(200);
    await createStation({}, station);
    const resent = await produce(station, { producer: "p", messages: seqBatch(4, 3) });
    expect(resent.status).toBe(409);
    expect(resent.body.error).toMatchObject({ code: "seq_gap", producer: "p", expectedSeq: 1, receivedSeq: 4 });
    await evictDurableObject(stationStub(station));
    expect((await produce(station, { producer: "p", messages: seqBatch(6, 1) })).body.error).toMatchObject({ code: "seq_gap", expectedSeq: 1 });
  });
});
