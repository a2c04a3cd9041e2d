// `dls.onSchemaFailure`: failing messages go to the dead-letter station (reason schema_violation,
// no offset, no group) and the rest of the batch to the log, with the producer's seqs all counted.
import { describe, expect, it } from "vitest";
import { api, produce } from "./helpers";
import { addVersion, stationWithSchema, TODO_V1, uniqueSchema } from "./schemas-helpers";

async function schemaDeadLetters(station: string): Promise<any[]> {
  const res = await api("GET", `/v1/stations/${station}/dls?reason=schema_violation`);
  expect(res.status).toBe(200);
  return res.body.deadLetters;
}

async function readLog(station: string): Promise<any[]> {
  return (await api("GET", `/v1/stations/${station}/messages?from=1`)).body.messages;
}

async function dlsStation(): Promise<{ schema: string; station: string }> {
  const schema = uniqueSchema();
  await addVersion(schema, TODO_V1);
  const station = await stationWithSchema(schema, "latest", { dls: { onSchemaFailure: true } });
  return { schema, station };
}

describe("dls.onSchemaFailure", () => {
  it("stores the passing messages at dense offsets and files the failing ones as dead letters", async () => {
    const { schema, station } = await dlsStation();
    const bodies = [{ todo: "a" }, { todo: 1 }, { todo: "c" }, {}];
    const res = await produce(station, { producer: "p", messages: bodies.map((body, i) => ({ seq: i + 1, body, key: `k${i}` })) });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: false },
      { seq: 2, partition: 0, offset: null, duplicate: false, deadLettered: true },
      { seq: 3, partition: 0, offset: 2, duplicate: false },
      { seq: 4, partition: 0, offset: null, duplicate: false, deadLettered: true },
    ]);
    expect((await readLog(station)).map((m) => m.body)).toEqual([{ todo: "a" }, { todo: "c" }]);

    const letters = await schemaDeadLetters(station);
    expect(letters).toHaveLength(2);
    expect(letters[0]).toMatchObject({
      offset: null,
      group: null,
      reason: "schema_violation",
      deliveries: 0,
      message: { offset: null, producer: "p", seq: 2, key: "k1", body: { todo: 1 } },
      detail: { schema: { name: schema, version: 1 }, path: "/todo", keyword: "type" },
    });
    expect(letters[1]).toMatchObject({ message: { seq: 4, body: {} }, detail: { path: "", keyword: "required" } });
    expect((await api("GET", `/v1/stations/${station}`)).body.stats).toMatchObject({ lastOffset: 2, messages: 2 });
  });

  it("counts a dead-lettered seq as stored: a resend is a duplicate, and the next seq follows it", async () => {
    const { station } = await dlsStation();
    const batch = { producer: "p", messages: [{ seq: 1, body: { todo: "a" } }, { seq: 2, body: { todo: 2 } }] };
    expect((await produce(station, batch)).status).toBe(200);

    const resent = await produce(station, batch);
    expect(resent.status).toBe(200);
    expect(resent.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: true },
      { seq: 2, partition: 0, offset: null, duplicate: true, deadLettered: true },
    ]);
    expect(await schemaDeadLetters(station)).toHaveLength(1);

    const gap = await produce(station, { producer: "p", messages: [{ seq: 2, body: { todo: "b" } }, { seq: 4, body: { todo: "d" } }] });
    expect(gap.body.error.code).toBe("invalid_request");
    const skip = await produce(station, { producer: "p", messages: [{ seq: 4, body: { todo: "d" } }] });
    expect(skip.body.error).toMatchObject({ code: "seq_gap", expectedSeq: 3 });
    const next = await produce(station, { producer: "p", messages: [{ seq: 3, body: { todo: "c" } }] });
    expect(next.body.results).toEqual([{ seq: 3, partition: 0, offset: 2, duplicate: false }]);
  });

  it("files a batch that fails whole and still moves the producer's seq past it", async () => {
    const { station } = await dlsStation();
    const res = await produce(station, { producer: "p", messages: [{ seq: 1, body: 1 }, { seq: 2, body: 2 }] });
    expect(res.body.results.every((r: any) => r.deadLettered === true && r.offset === null)).toBe(true);
    expect(await readLog(station)).toEqual([]);
    const next = await produce(station, { producer: "p", messages: [{ seq: 3, body: { todo: "ok" } }] });
    expect(next.body.results).toEqual([{ seq: 3, partition: 0, offset: 1, duplicate: false }]);
  });

  it("files failing messages of producers without seq, and never half-writes on another refusal", async () => {
    const { station } = await dlsStation();
    const res = await produce(station, { messages: [{ body: { todo: "a" } }, { body: { todo: [] }, id: "x1" }] });
    expect(res.body.results).toEqual([
      { seq: null, partition: 0, offset: 1, duplicate: false },
      { seq: null, partition: 0, offset: null, duplicate: false, deadLettered: true },
    ]);
    // A batch refused for another reason (a body over maxMessageBytes) files nothing.
    await api("PUT", `/v1/stations/${station}`, {
      schema: { name: (await api("GET", `/v1/stations/${station}`)).body.config.schema.name },
      dls: { onSchemaFailure: true },
      maxMessageBytes: 64,
    });
    const refused = await produce(station, { messages: [{ body: { todo: 1 } }, { body: { todo: "x".repeat(100) } }] });
    expect(refused.status).toBe(413);
    expect(await schemaDeadLetters(station)).toHaveLength(1);
    expect(await readLog(station)).toHaveLength(1);
  });
});
