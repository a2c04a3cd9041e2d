// Protobuf schema versions: a FileDescriptorSet and a message type stored (or refused with
// invalid_schema), and bodies sent as {"$binary": …} or as the type's JSON mapping checked at the
// station: a round trip of both forms, and refusals with schema_violation. The same type given as
// `.proto` text behaves the same.
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../../shared/binary";
import { api, produce } from "./helpers";
import { stationWithSchema, uniqueSchema } from "./schemas-helpers";

/** todo.v1.Todo {string title = 1; bool done = 2;} as a FileDescriptorSet, built without protoc. */
const SET = create(FileDescriptorSetSchema, {
  file: [
    {
      name: "todo.proto",
      package: "todo.v1",
      syntax: "proto3",
      messageType: [
        {
          name: "Todo",
          field: [
            { name: "title", number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: "title" },
            { name: "done", number: 2, type: FieldDescriptorProto_Type.BOOL, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: "done" },
          ],
        },
      ],
    },
  ],
});
const SET_BASE64 = encodeBase64(toBinary(FileDescriptorSetSchema, SET));
const TODO = createFileRegistry(SET).getMessage("todo.v1.Todo")!;

function binaryTodo(title: string, done: boolean) {
  return { $binary: encodeBase64(toBinary(TODO, create(TODO, { title, done } as never))) };
}

async function protobufSchema(): Promise<string> {
  const name = uniqueSchema("pb");
  const res = await api("PUT", `/v1/schemas/${name}`, { format: "protobuf", schema: { fileDescriptorSet: SET_BASE64, messageType: "todo.v1.Todo" } });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ name, version: 1, format: "protobuf", schema: { messageType: "todo.v1.Todo" } });
  return name;
}

describe("protobuf schemas", () => {
  it("stores a FileDescriptorSet with its message type, and refuses a set without it or not a set", async () => {
    await protobufSchema();
    const missing = await api("PUT", `/v1/schemas/${uniqueSchema("pb")}`, { format: "protobuf", schema: { fileDescriptorSet: SET_BASE64, messageType: "todo.v1.Nope" } });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: "invalid_schema", message: expect.stringContaining("todo.v1.Nope") });
    const garbage = await api("PUT", `/v1/schemas/${uniqueSchema("pb")}`, { format: "protobuf", schema: { fileDescriptorSet: "//79", messageType: "a.B" } });
    expect(garbage.body.error.code).toBe("invalid_schema");
    const shape = await api("PUT", `/v1/schemas/${uniqueSchema("pb")}`, { format: "protobuf", schema: { type: "object" } });
    expect(shape.body.error.code).toBe("invalid_schema");
  });

  it("round-trips binary and JSON bodies that decode as the type, and reads them back", async () => {
    const name = await protobufSchema();
    const station = await stationWithSchema(name, "latest");
    const sent = binaryTodo("milk", true);
    const res = await produce(station, { producer: "svc", messages: [{ seq: 1, body: sent }, { seq: 2, body: { title: "eggs", done: false } }] });
    expect(res.body.results).toEqual([
      { seq: 1, partition: 0, offset: 1, duplicate: false },
      { seq: 2, partition: 0, offset: 2, duplicate: false },
    ]);
    const read = await api("GET", `/v1/stations/${station}/messages`);
    expect(read.body.messages.map((m: any) => [m.body, m.schemaVersion])).toEqual([[sent], [{ title: "eggs", done: false }]].map(([b]) => [b, 1]));
    const decoded = fromBinary(TODO, Uint8Array.from(atob(read.body.messages[0].body.$binary), (c) => c.charCodeAt(0)));
    expect(decoded).toMatchObject({ title: "milk", done: true });
    // Asked for JSON, binary bodies come back as the type's JSON mapping; JSON bodies as they are.
    const asJson = await api("GET", `/v1/stations/${station}/messages?decode=json`);
    expect(asJson.body.messages.map((m: any) => m.body)).toEqual([{ title: "milk", done: true }, { title: "eggs", done: false }]);
    expect((await api("GET", `/v1/stations/${station}/messages?decode=yaml`)).body.error.code).toBe("invalid_request");
    // The browser is told the format, so it leaves the check to the station.
    expect((await api("GET", `/v1/stations/${station}/schema`)).body.schema).toMatchObject({ format: "protobuf", version: 1 });
  });

  it("refuses bodies that do not decode as the type with schema_violation", async () => {
    const name = await protobufSchema();
    const station = await stationWithSchema(name, "latest");
    for (const body of [{ title: 5 }, { nope: true }, { $binary: encodeBase64(new Uint8Array([0xff, 0xff, 0xff])) }, "just text"]) {
      const res = await produce(station, { messages: [{ body }] });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error).toMatchObject({ code: "schema_violation", schema: { name, version: 1 }, violations: [{ keyword: "protobuf" }] });
    }
    const ruled = await produce(station, { producer: "svc", messages: [{ seq: 1, body: { title: 5 } }] });
    expect(ruled.body.results[0].refused).toMatchObject({ code: "schema_violation", message: expect.stringContaining("todo.v1.Todo") });
  });

  it("takes a protobuf version after a JSON Schema one only with compatibility none", async () => {
    const name = uniqueSchema("pb");
    await api("PUT", `/v1/schemas/${name}`, { schema: { type: "object" } });
    const pb = { format: "protobuf", schema: { fileDescriptorSet: SET_BASE64, messageType: "todo.v1.Todo" } };
    const refused = await api("PUT", `/v1/schemas/${name}`, pb);
    expect(refused.status).toBe(409);
    expect(refused.body.error.breaks[0].rule).toBe("undecidable");
    expect((await api("PUT", `/v1/schemas/${name}`, { ...pb, compatibility: "none" })).body).toMatchObject({ version: 2, format: "protobuf" });
  });

  it("takes the type as .proto text, checks and decodes it as the descriptor set's, and refuses text it cannot read", async () => {
    const name = uniqueSchema("pb");
    const proto = `// A todo, as text.
syntax = "proto3";
package todo.v1;
import "google/protobuf/timestamp.proto";
message Todo {
  string title = 1;
  bool done = 2;
  google.protobuf.Timestamp due = 3;
}`;
    const res = await api("PUT", `/v1/schemas/${name}`, { format: "protobuf", schema: { proto, messageType: "todo.v1.Todo" } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: "protobuf", schema: { proto, messageType: "todo.v1.Todo" } });
    const station = await stationWithSchema(name, "latest");
    // The descriptor-set test's binary body (fields 1 and 2) is a valid body here too.
    const sent = binaryTodo("milk", true);
    const json = { title: "eggs", done: false, due: "2026-01-02T03:04:05Z" };
    const produced = await produce(station, { messages: [{ body: sent }, { body: json }] });
    expect(produced.status).toBe(200);
    const refused = await produce(station, { messages: [{ body: { title: "x", due: "yesterday" } }] });
    expect(refused.body.error).toMatchObject({ code: "schema_violation", violations: [{ keyword: "protobuf" }] });
    const asJson = await api("GET", `/v1/stations/${station}/messages?decode=json`);
    expect(asJson.body.messages.map((m: any) => m.body)).toEqual([{ title: "milk", done: true }, json]);

    const cases: Array<[unknown, RegExp]> = [
      [{ proto: "syntax = \"proto3\"; message Todo { string title = 1 }", messageType: "Todo" }, /does not parse/],
      [{ proto: "syntax = \"proto3\"; message Todo { Missing m = 1; }", messageType: "Todo" }, /does not resolve.*Missing/],
      [{ proto: "syntax = \"proto3\"; import \"shop/other.proto\"; message A {}", messageType: "A" }, /imports shop\/other.proto.*fileDescriptorSet/],
      [{ proto: "edition = \"2023\"; message A {}", messageType: "A" }, /edition 2023/],
      [{ proto: "syntax = \"proto3\"; message A {}", messageType: "B" }, /no message B/],
      [{ proto: "syntax = \"proto3\"; message A {}", fileDescriptorSet: SET_BASE64, messageType: "A" }, /proto, messageType/],
    ];
    for (const [schema, reason] of cases) {
      const bad = await api("PUT", `/v1/schemas/${uniqueSchema("pb")}`, { format: "protobuf", schema });
      expect(bad.status, JSON.stringify(schema)).toBe(422);
      expect(bad.body.error).toMatchObject({ code: "invalid_schema", message: expect.stringMatching(reason) });
    }
  });
});
