// The meta-schemas a stored schema is checked against: the keywords of JSON Schema 2019-09 and
// 2020-12 (core, applicator, unevaluated, validation, meta-data, format, content) with their
// shapes, in one schema per draft. Recursion is a plain `$ref: "#"` where the official
// meta-schemas use `$recursiveRef`/`$dynamicRef` (the same thing without extension vocabularies).
import type { Schema } from "@cfworker/json-schema";
import { SchemaDraft } from "../../shared/schemas";

const SIMPLE_TYPES = ["array", "boolean", "integer", "null", "number", "object", "string"];

const anySchema = (): Schema => ({ $ref: "#" });
const schemaArray = (): Schema => ({ type: "array", minItems: 1, items: anySchema() });
const schemaMap = (): Schema => ({ type: "object", additionalProperties: anySchema() });
const nonNegativeInteger = (): Schema => ({ type: "integer", minimum: 0 });
const stringArray = (): Schema => ({ type: "array", items: { type: "string" }, uniqueItems: true });
const text = (): Schema => ({ type: "string" });

function commonKeywords(): Record<string, Schema | boolean> {
  return {
    // core
    $id: { type: "string", pattern: "^[^#]*#?$" },
    $schema: text(),
    $ref: text(),
    $comment: text(),
    $defs: schemaMap(),
    $vocabulary: { type: "object", additionalProperties: { type: "boolean" } },
    // applicator
    additionalProperties: anySchema(),
    properties: schemaMap(),
    patternProperties: { type: "object", additionalProperties: anySchema(), propertyNames: { format: "regex" } },
    dependentSchemas: schemaMap(),
    propertyNames: anySchema(),
    contains: anySchema(),
    if: anySchema(),
    then: anySchema(),
    else: anySchema(),
    allOf: schemaArray(),
    anyOf: schemaArray(),
    oneOf: schemaArray(),
    not: anySchema(),
    // unevaluated
    unevaluatedItems: anySchema(),
    unevaluatedProperties: anySchema(),
    // validation
    type: {
      anyOf: [{ enum: SIMPLE_TYPES }, { type: "array", items: { enum: SIMPLE_TYPES }, minItems: 1, uniqueItems: true }],
    },
    const: true,
    enum: { type: "array" },
    multipleOf: { type: "number", exclusiveMinimum: 0 },
    maximum: { type: "number" },
    exclusiveMaximum: { type: "number" },
    minimum: { type: "number" },
    exclusiveMinimum: { type: "number" },
    maxLength: nonNegativeInteger(),
    minLength: nonNegativeInteger(),
    pattern: { type: "string", format: "regex" },
    maxItems: nonNegativeInteger(),
    minItems: nonNegativeInteger(),
    uniqueItems: { type: "boolean" },
    maxContains: nonNegativeInteger(),
    minContains: nonNegativeInteger(),
    maxProperties: nonNegativeInteger(),
    minProperties: nonNegativeInteger(),
    required: stringArray(),
    dependentRequired: { type: "object", additionalProperties: stringArray() },
    // meta-data
    title: text(),
    description: text(),
    default: true,
    deprecated: { type: "boolean" },
    readOnly: { type: "boolean" },
    writeOnly: { type: "boolean" },
    examples: { type: "array" },
    // format annotation
    format: text(),
    // content
    contentEncoding: text(),
    contentMediaType: text(),
    contentSchema: anySchema(),
    // kept by both drafts' meta-schemas for compatibility with draft 7
    definitions: schemaMap(),
    dependencies: { type: "object", additionalProperties: { anyOf: [anySchema(), stringArray()] } },
  };
}

function draftKeywords(draft: SchemaDraft): Record<string, Schema | boolean> {
  if (draft === SchemaDraft.Draft2019_09) {
    return {
      $anchor: { type: "string", pattern: "^[A-Za-z][-A-Za-z0-9.:_]*$" },
      $recursiveRef: text(),
      $recursiveAnchor: { type: "boolean" },
      items: { anyOf: [anySchema(), schemaArray()] },
      additionalItems: anySchema(),
    };
  }
  return {
    $anchor: { type: "string", pattern: "^[A-Za-z_][-A-Za-z0-9._]*$" },
    $dynamicRef: text(),
    $dynamicAnchor: { type: "string", pattern: "^[A-Za-z_][-A-Za-z0-9._]*$" },
    prefixItems: schemaArray(),
    items: anySchema(),
  };
}

/** The meta-schema of `draft`, a fresh object (the validator annotates what it is given). */
export function metaSchemaOf(draft: SchemaDraft): Schema {
  return {
    $id: `https://waystation.invalid/meta/${draft}`,
    type: ["object", "boolean"],
    properties: { ...commonKeywords(), ...draftKeywords(draft) },
  };
}
