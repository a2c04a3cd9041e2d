// The compatibility checker, table-driven: pairs (latest → new) accepted or refused under each
// rule, and the rule names and paths of what breaks. Undecidable constructs are refused.
import { describe, expect, it } from "vitest";
import type { Compatibility } from "../../shared/schemas";
import { compatibilityBreaks } from "../../worker/schemas/compatibility";

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: "object", properties, ...extra });

interface Case {
  name: string;
  previous: unknown;
  next: unknown;
  /** The rules of the breaks expected under each compatibility ([] = accepted). */
  backward: string[];
  forward: string[];
  /** The path of the first break, when one is expected. */
  path?: string;
}

const CASES: Case[] = [
  { name: "identical", previous: obj({ a: { type: "string" } }), next: obj({ a: { type: "string" } }), backward: [], forward: [] },
  { name: "only annotations change", previous: { type: "string", description: "x" }, next: { type: "string", title: "y", examples: ["z"] }, backward: [], forward: [] },
  { name: "required property added", previous: obj({ a: {} }), next: obj({ a: {} }, { required: ["a"] }), backward: ["required_added"], forward: [], path: "/required" },
  { name: "required property dropped", previous: obj({ a: {} }, { required: ["a"] }), next: obj({ a: {} }), backward: [], forward: ["required_removed"], path: "/required" },
  { name: "optional property added", previous: obj({ a: { type: "string" } }), next: obj({ a: { type: "string" }, b: { type: "number" } }), backward: ["type_narrowed"], forward: [], path: "/properties/b/type" },
  { name: "type narrowed", previous: { type: ["string", "number"] }, next: { type: "string" }, backward: ["type_narrowed"], forward: [], path: "/type" },
  { name: "number narrowed to integer", previous: { type: "number" }, next: { type: "integer" }, backward: ["type_narrowed"], forward: [] },
  { name: "integer widened to number", previous: { type: "integer" }, next: { type: "number" }, backward: [], forward: ["type_widened"] },
  { name: "type added where there was none", previous: {}, next: { type: "object" }, backward: ["type_narrowed"], forward: [] },
  { name: "nested type narrowed", previous: obj({ a: obj({ b: { type: ["string", "null"] } }) }), next: obj({ a: obj({ b: { type: "string" } }) }), backward: ["type_narrowed"], forward: [], path: "/properties/a/properties/b/type" },
  { name: "enum shrunk", previous: { enum: ["a", "b", "c"] }, next: { enum: ["a", "b"] }, backward: ["enum_shrunk"], forward: [], path: "/enum" },
  { name: "enum grown", previous: { enum: ["a"] }, next: { enum: ["a", "b"] }, backward: [], forward: ["enum_grown"] },
  { name: "enum added", previous: { type: "string" }, next: { type: "string", enum: ["a"] }, backward: ["enum_shrunk"], forward: [] },
  { name: "enum values still fit a new type", previous: { enum: ["a", "b"] }, next: { type: "string" }, backward: [], forward: ["enum_grown"] },
  { name: "const changed", previous: { const: 1 }, next: { const: 2 }, backward: ["const_changed"], forward: ["const_changed"], path: "/const" },
  { name: "const to a matching enum", previous: { const: "a" }, next: { enum: ["a", "b"] }, backward: [], forward: ["const_changed"] },
  { name: "additionalProperties tightened", previous: obj({ a: {} }), next: obj({ a: {} }, { additionalProperties: false }), backward: ["additional_properties_tightened"], forward: [], path: "/additionalProperties" },
  { name: "additionalProperties loosened", previous: obj({ a: {} }, { additionalProperties: false }), next: obj({ a: {} }), backward: [], forward: ["additional_properties_loosened"] },
  { name: "property removed under additionalProperties false", previous: obj({ a: {}, b: {} }, { additionalProperties: false }), next: obj({ a: {} }, { additionalProperties: false }), backward: ["additional_properties_tightened"], forward: [], path: "/properties/b" },
  { name: "property removed (open object)", previous: obj({ a: {}, b: { type: "string" } }), next: obj({ a: {} }), backward: [], forward: ["type_widened"] },
  { name: "minimum raised", previous: { type: "number", minimum: 0 }, next: { type: "number", minimum: 1 }, backward: ["bound_tightened"], forward: [], path: "/minimum" },
  { name: "maximum raised", previous: { type: "number", maximum: 10 }, next: { type: "number", maximum: 20 }, backward: [], forward: ["bound_loosened"] },
  { name: "minimum made exclusive", previous: { minimum: 0 }, next: { exclusiveMinimum: 0 }, backward: ["bound_tightened"], forward: [] },
  { name: "maxLength lowered", previous: { type: "string", maxLength: 10 }, next: { type: "string", maxLength: 5 }, backward: ["bound_tightened"], forward: [], path: "/maxLength" },
  { name: "minItems added", previous: { type: "array" }, next: { type: "array", minItems: 1 }, backward: ["bound_tightened"], forward: [] },
  { name: "multipleOf finer", previous: { multipleOf: 4 }, next: { multipleOf: 2 }, backward: [], forward: ["bound_loosened"] },
  { name: "items narrowed", previous: { type: "array", items: { type: "number" } }, next: { type: "array", items: { type: "integer" } }, backward: ["type_narrowed"], forward: [], path: "/items/type" },
  { name: "uniqueItems added", previous: { type: "array" }, next: { type: "array", uniqueItems: true }, backward: ["unique_items_added"], forward: [] },
  { name: "pattern added", previous: { type: "string" }, next: { type: "string", pattern: "^a" }, backward: ["pattern_changed"], forward: [] },
  { name: "pattern changed", previous: { type: "string", pattern: "^a" }, next: { type: "string", pattern: "^b" }, backward: ["pattern_changed"], forward: ["pattern_changed"] },
  { name: "false schema", previous: true, next: false, backward: ["type_narrowed"], forward: [] },
  { name: "same $ref, same definitions", previous: { $defs: { n: { type: "number" } }, $ref: "#/$defs/n" }, next: { $defs: { n: { type: "number" } }, $ref: "#/$defs/n", description: "d" }, backward: [], forward: [] },
  { name: "$ref into changed definitions", previous: { $defs: { n: { type: "number" } }, $ref: "#/$defs/n" }, next: { $defs: { n: { type: "integer" } }, $ref: "#/$defs/n" }, backward: ["undecidable"], forward: ["undecidable"], path: "/$ref" },
  { name: "oneOf changed", previous: { oneOf: [{ type: "string" }, { type: "number" }] }, next: { oneOf: [{ type: "string" }, { type: "object" }] }, backward: ["undecidable"], forward: ["undecidable"], path: "/oneOf" },
  { name: "allOf dropped only widens", previous: { type: "object", allOf: [{ required: ["a"] }] }, next: { type: "object" }, backward: [], forward: ["undecidable"] },
  { name: "patternProperties", previous: { patternProperties: { "^x": { type: "string" } } }, next: { patternProperties: { "^x": { type: "number" } } }, backward: ["undecidable"], forward: ["undecidable"] },
  { name: "if/then/else added", previous: { type: "object" }, next: { type: "object", if: { required: ["a"] }, then: { required: ["b"] } }, backward: ["undecidable", "undecidable"], forward: [], path: "/if" },
];

const rules = (previous: unknown, next: unknown, compatibility: Compatibility) => compatibilityBreaks(previous, next, compatibility).map((b) => b.rule);

describe("schema compatibility", () => {
  it.each(CASES)("$name", ({ previous, next, backward, forward, path }) => {
    expect(rules(previous, next, "backward")).toEqual(backward);
    expect(rules(previous, next, "forward")).toEqual(forward);
    expect(new Set(rules(previous, next, "full"))).toEqual(new Set([...backward, ...forward]));
    expect(rules(previous, next, "none")).toEqual([]);
    if (path !== undefined) expect(compatibilityBreaks(previous, next, backward.length > 0 ? "backward" : "forward")[0]!.path).toBe(path);
  });

  it("names every break with a readable message", () => {
    const breaks = compatibilityBreaks(obj({ a: { type: "string" } }), obj({ a: { type: "number" } }, { required: ["a", "b"] }), "backward");
    expect(breaks.map((b) => [b.path, b.rule])).toEqual([
      ["/required", "required_added"],
      ["/properties/a/type", "type_narrowed"],
    ]);
    expect(breaks[0]!.message).toBe('data valid under the previous version fails the new one: required "a", "b" added');
  });

  it("reports at most the limit", () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, { type: "string" }]));
    const narrowed = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, { type: "number" }]));
    expect(compatibilityBreaks(obj(many), obj(narrowed), "full")).toHaveLength(20);
  });
});
