// Pins the wire: hashes the structure of every valibot schema exported by shared/ and fails
// when it changes unless PROTOCOL_VERSION, its history line and PROTOCOL_SCHEMA_HASH change too.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { PROTOCOL_SCHEMA_HASH, PROTOCOL_VERSION } from "../../shared/version";

const sharedDir = fileURLToPath(new URL("../../shared/", import.meta.url));

function isSchema(value: unknown): value is { kind: "schema" } {
  return typeof value === "object" && value !== null && "kind" in value && value.kind === "schema";
}

// A deterministic, JSON-ready copy of a schema's structure: type, entries, wrapped, options,
// pipe items with their types and requirements. Functions (`~run`, custom checks) and messages
// are left out: they are behaviour or wording, not shape. `seen` guards against cycles.
function structureOf(value: unknown, seen = new Set<object>()): unknown {
  if (typeof value === "function" || value === undefined) return undefined;
  if (value instanceof RegExp) return { regexp: value.source, flags: value.flags };
  if (typeof value === "bigint") return { bigint: value.toString() };
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[cycle]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => structureOf(item, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (key.startsWith("~") || key === "message") continue;
      const inner = structureOf((value as Record<string, unknown>)[key], seen);
      if (inner !== undefined) out[key] = inner;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function hashOf(schemas: Record<string, unknown>): string {
  return createHash("sha256").update(JSON.stringify(structureOf(schemas))).digest("hex");
}

async function exportedSchemas(): Promise<Record<string, unknown>> {
  const files = readdirSync(sharedDir)
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
    .sort();
  const schemas: Record<string, unknown> = {};
  for (const file of files) {
    const module = (await import(/* @vite-ignore */ `../../shared/${file}`)) as Record<string, unknown>;
    for (const name of Object.keys(module).sort()) {
      if (isSchema(module[name])) schemas[`${file}#${name}`] = module[name];
    }
  }
  return schemas;
}

describe("protocol version", () => {
  it("pins the exported schemas of shared/ to PROTOCOL_SCHEMA_HASH", async () => {
    const schemas = await exportedSchemas();
    expect(Object.keys(schemas).length).toBeGreaterThan(10);
    const hash = hashOf(schemas);
    expect(
      hash,
      `The schemas in shared/ changed (hash ${hash}). Bump PROTOCOL_VERSION (now ${PROTOCOL_VERSION}) ` +
        `and add its history line in shared/version.ts (only a new optional field may keep the version), ` +
        `then set PROTOCOL_SCHEMA_HASH to this hash with that version.`,
    ).toBe(PROTOCOL_SCHEMA_HASH.hash);
    expect(PROTOCOL_SCHEMA_HASH.version, "PROTOCOL_SCHEMA_HASH must be recorded for the current PROTOCOL_VERSION").toBe(
      PROTOCOL_VERSION,
    );
  });

  it("changes the hash when one schema changes", async () => {
    const schemas = await exportedSchemas();
    const before = hashOf(schemas);
    const [first] = Object.keys(schemas);
    expect(hashOf({ ...schemas, [first]: v.object({ added: v.string() }) })).not.toBe(before);
    // A narrower pipe on the same type is a change of the wire too.
    const pick = Object.keys(schemas).find((key) => (schemas[key] as { type?: string }).type === "object")!;
    const original = schemas[pick] as v.ObjectSchema<v.ObjectEntries, undefined>;
    const widened = v.object({ ...original.entries, extra: v.optional(v.number()) });
    expect(hashOf({ ...schemas, [pick]: widened })).not.toBe(before);
    const string = v.string();
    expect(hashOf({ a: v.pipe(string, v.maxLength(10)) })).not.toBe(hashOf({ a: v.pipe(string, v.maxLength(11)) }));
    expect(hashOf({ a: v.pipe(string, v.regex(/^a$/)) })).not.toBe(hashOf({ a: v.pipe(string, v.regex(/^b$/)) }));
    // …while the same structure hashes the same.
    expect(hashOf({ a: v.pipe(v.string(), v.maxLength(10)) })).toBe(hashOf({ a: v.pipe(string, v.maxLength(10)) }));
  });
});
