// Stamped versions: a message carrying the schema version its producer checked (`schemaVersion`)
// is judged by that version on a station following `latest`; unknown versions, other schemas and
// fixed stations judge by the current one. Each stored message reads back the version it met.
import { describe, expect, it } from "vitest";
import { api, createStation, produce } from "./helpers";
import { createGroups, take } from "./groups-helpers";
import { addVersion, stationWithSchema, uniqueSchema } from "./schemas-helpers";

/** v1: a todo, anything else allowed. */
const V1 = { type: "object", required: ["todo"], properties: { todo: { type: "string" } } };
/** v2 (forward compatible): also needs `due`. */
const V2 = { ...V1, required: ["todo", "due"] };

async function forwardSchema(): Promise<string> {
  const schema = uniqueSchema();
  await addVersion(schema, V1, "forward");
  expect(await addVersion(schema, V2)).toBe(2);
  return schema;
}

describe("stamped schema versions", () => {
  it("judges a sequenced message stamped v1 by v1 after v2 is added, and records the version each message met", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, V1, "forward");
    const station = await stationWithSchema(schema, "latest");
    // Checked (offline) under v1, then v2 arrives before the action is sent.
    expect(await addVersion(schema, V2)).toBe(2);
    const res = await produce(station, {
      producer: "p1",
      messages: [
        { seq: 1, body: { todo: "queued under v1" }, schemaVersion: 1, schemaName: schema },
        { seq: 2, body: { todo: "not stamped" } },
        { seq: 3, body: { todo: "stamped v2" }, schemaVersion: 2 },
        { seq: 4, body: { todo: "meets v2", due: 1 } },
      ],
    });
    expect(res.status).toBe(200);
    const [first, second, third, fourth] = res.body.results;
    expect(first).toEqual({ seq: 1, partition: 0, offset: 1, duplicate: false });
    expect(second.refused).toMatchObject({ code: "schema_violation", schema: { name: schema, version: 2 } });
    expect(third.refused).toMatchObject({ code: "schema_violation", schema: { name: schema, version: 2 } });
    expect(fourth).toEqual({ seq: 4, partition: 0, offset: 2, duplicate: false });

    const read = await api("GET", `/v1/stations/${station}/messages`);
    expect(read.body.messages.map((m: any) => [m.offset, m.schemaVersion])).toEqual([[1, 1], [2, 2]]);
    // A group hands them out with the same field.
    await createGroups(station, ["g"]);
    const taken = await take(station, "g", "c1");
    expect(taken.map((m: any) => m.schemaVersion)).toEqual([1, 2]);
  });

  it("judges by v1 a batch without seq stamped v1, and names v2 when an unstamped one fails", async () => {
    const schema = await forwardSchema();
    const station = await stationWithSchema(schema, "latest");
    const stamped = await produce(station, { messages: [{ body: { todo: "a" }, schemaVersion: 1 }] });
    expect(stamped.body.results).toEqual([{ seq: null, partition: 0, offset: 1, duplicate: false }]);
    const unstamped = await produce(station, { messages: [{ body: { todo: "a" }, schemaVersion: 1 }, { body: { todo: "b" } }] });
    expect(unstamped.status).toBe(422);
    expect(unstamped.body.error).toMatchObject({ code: "schema_violation", index: 1, schema: { name: schema, version: 2 } });
  });

  it("judges by the current version a stamp of a version that does not exist, of another schema, or on a fixed station", async () => {
    const schema = await forwardSchema();
    const following = await stationWithSchema(schema, "latest");
    const body = { todo: "no due" };
    const missing = await produce(following, { producer: "p", messages: [{ seq: 1, body, schemaVersion: 7 }, { seq: 2, body, schemaVersion: 1, schemaName: "other-schema" }] });
    expect(missing.body.results.map((r: any) => r.refused?.schema)).toEqual([
      { name: schema, version: 2 },
      { name: schema, version: 2 },
    ]);
    const fixed = await stationWithSchema(schema, 2);
    const onFixed = await produce(fixed, { producer: "p", messages: [{ seq: 1, body, schemaVersion: 1 }] });
    expect(onFixed.body.results[0].refused).toMatchObject({ code: "schema_violation", schema: { name: schema, version: 2 } });
    // And a station fixed on v1 takes it, recording v1.
    const old = await stationWithSchema(schema, 1);
    expect((await produce(old, { messages: [{ body, schemaVersion: 2 }] })).body.results[0].offset).toBe(1);
    expect((await api("GET", `/v1/stations/${old}/messages`)).body.messages[0].schemaVersion).toBe(1);
  });

  it("records no version on a station without a schema, and refuses a stamp that is not a version number", async () => {
    const station = await createStation();
    await produce(station, { messages: [{ body: 1, schemaVersion: 3 }] });
    const read = await api("GET", `/v1/stations/${station}/messages`);
    expect(read.body.messages[0]).not.toHaveProperty("schemaVersion");
    const bad = await produce(station, { messages: [{ body: 1, schemaVersion: 0 }] });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("invalid_request");
  });
});
