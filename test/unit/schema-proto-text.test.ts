// `.proto` text read into descriptors (worker/schemas/proto-text.ts): what protoc would write for
// maps, oneofs, proto3 `optional`, nested types and enums, proto2 labels and defaults, checked
// through @bufbuild/protobuf's reflection and JSON mapping; and the path run where eval and
// new Function throw, as in workerd.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { descriptorSetOfProto } from "../../worker/schemas/proto-text";

const SHOP = `
/* The shop's order. */
syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  optional int32 priority = 2 [json_name = "prio"];
  map<string, Line> lines_by_sku = 3;
  oneof payment {
    string card = 4;
    Voucher voucher = 5;
  }
  repeated int64 tags = 6 [packed = false];
  Status status = 7;
  google.protobuf.Timestamp placed_at = 8;
  message Line { uint32 qty = 1; }
  enum Status { STATUS_UNSPECIFIED = 0; STATUS_PAID = 1; }
}
message Voucher { string code = 1; }
`;

function registryOf(source: string) {
  const set = descriptorSetOfProto(source);
  if (!set.ok) throw new Error(set.error.message);
  return createFileRegistry(set.value);
}

describe(".proto text", () => {
  it("writes maps, oneofs, proto3 optional, nested types, enums and well-known imports as protoc does", () => {
    const order = registryOf(SHOP).getMessage("shop.v1.Order")!;
    const field = (name: string) => order.fields.find((f) => f.name === name)!;
    expect(order.fields.map((f) => [f.name, f.number, f.fieldKind, f.jsonName])).toEqual([
      ["id", 1, "scalar", "id"],
      ["priority", 2, "scalar", "prio"],
      ["lines_by_sku", 3, "map", "linesBySku"],
      ["card", 4, "scalar", "card"],
      ["voucher", 5, "message", "voucher"],
      ["tags", 6, "list", "tags"],
      ["status", 7, "enum", "status"],
      ["placed_at", 8, "message", "placedAt"],
    ]);
    expect(order.oneofs.map((o) => [o.name, o.fields.map((f) => f.name)])).toEqual([["payment", ["card", "voucher"]]]);
    expect(field("priority").presence).not.toBe(field("id").presence);
    const lines = field("lines_by_sku");
    expect(lines.fieldKind === "map" && [lines.mapKey, lines.message?.typeName]).toEqual([9, "shop.v1.Order.Line"]);
    const tags = field("tags");
    expect(tags.fieldKind === "list" && tags.packed).toBe(false);
    expect(field("placed_at").message?.typeName).toBe("google.protobuf.Timestamp");
    // The JSON mapping goes both ways, with the names and forms protoc's descriptors give.
    const json = { id: "o-1", prio: 0, linesBySku: { "sku-1": { qty: 2 } }, voucher: { code: "X" }, tags: ["1", "2"], status: "STATUS_PAID", placedAt: "2026-01-02T03:04:05Z" };
    const message = fromJson(order, json);
    expect(toJson(order, message)).toEqual(json);
    expect(toBinary(order, message).length).toBeGreaterThan(0);
    expect(() => fromJson(order, { card: "c", voucher: { code: "X" } })).toThrow(/oneof/);
  });

  it("reads proto2 labels, defaults, groups, and leaves extensions out", () => {
    const registry = registryOf(`syntax = "proto2"; package legacy; message Old { required string name = 1; optional int32 n = 2 [default = 7]; repeated string xs = 3; enum Kind { A = 1; B = 2; } optional Kind kind = 4 [default = B]; }`);
    const old = registry.getMessage("legacy.Old")!;
    expect(old.file.edition).toBe(998); // EDITION_PROTO2
    expect(old.fields.map((f) => [f.name, f.presence])).toEqual([
      ["name", 3], // LEGACY_REQUIRED
      ["n", 1], // EXPLICIT
      ["xs", 2], // IMPLICIT (lists)
      ["kind", 1],
    ]);
    const message = create(old) as unknown as { n: number; kind: number };
    expect([message.n, message.kind]).toEqual([7, 2]);
    const more = registryOf(`syntax = "proto2"; package p; message A { optional int32 a = 1; extensions 100 to 199; } extend A { optional string note = 100; } message B { optional group G = 1 { optional int32 x = 1; } }`);
    expect(more.getMessage("p.A")!.fields.map((f) => f.name)).toEqual(["a"]);
    expect(more.getMessage("p.B")!.fields.map((f) => [f.name, f.fieldKind, f.delimitedEncoding])).toEqual([["g", "message", true]]);
  });

  it("refuses what it cannot read, saying why", () => {
    const reasons = [
      ["syntax = \"proto3\"; message A { string a = 1 }", /does not parse/],
      ["syntax = \"proto3\"; message A { B b = 1; }", /does not resolve/],
      ["syntax = \"proto3\"; import \"other.proto\"; message A {}", /imports other.proto/],
      ["edition = \"2023\"; message A {}", /edition 2023/],
      ["syntax = \"proto3\"; package google.protobuf; message A {}", /google.protobuf/],
    ] as const;
    for (const [source, reason] of reasons) {
      const set = descriptorSetOfProto(source);
      expect(set.ok, source).toBe(false);
      if (!set.ok) expect(set.error).toMatchObject({ code: "invalid_schema", message: expect.stringMatching(reason) });
    }
  });

  it("parses where eval and new Function throw (protobufjs's optional-module loader fails quietly there)", async () => {
    const bundled = await build({
      stdin: {
        contents: `import { createFileRegistry } from "@bufbuild/protobuf"; import { descriptorSetOfProto } from "./worker/schemas/proto-text";
          export function run(source) { const set = descriptorSetOfProto(source); return set.ok ? createFileRegistry(set.value).getMessage("shop.v1.Order").fields.length : set.error.message; }`,
        resolveDir: fileURLToPath(new URL("../..", import.meta.url)),
        loader: "ts",
      },
      bundle: true,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      write: false,
      logLevel: "silent",
    });
    const script = `${bundled.outputFiles[0]!.text}
      let generated = "allowed"; try { new Function("return 1"); } catch (error) { generated = error.message; }
      console.log(JSON.stringify({ generated, fields: run(${JSON.stringify(SHOP)}) }));`;
    // A file, not -e: the bundle is longer than one command-line argument may be.
    const dir = mkdtempSync(join(tmpdir(), "proto-text-"));
    const file = join(dir, "run.mjs");
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, ["--disallow-code-generation-from-strings", file], { encoding: "utf8" });
    rmSync(dir, { recursive: true });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({ generated: expect.stringMatching(/Code generation from strings disallowed/), fields: 8 });
  });
});
