// Schemaverse on the wire: `PUT /v1/schemas/{name}` bodies, the versions and lists the schema
// routes answer with, and the station's current schema the SDK fetches. Versions are numbered
// 1, 2, 3… per name and immutable; a PUT equal to the latest version adds nothing.
import * as v from "valibot";
import { positiveInt } from "./numbers";

/** The JSON Schema drafts a schema may be written in; the `$schema` keyword says which. */
export const SchemaDraft = { Draft2019_09: "2019-09", Draft2020_12: "2020-12" } as const;
export type SchemaDraft = (typeof SchemaDraft)[keyof typeof SchemaDraft];

/** What a schema version is written in: a JSON Schema (the default), or a protobuf message type or an Avro schema (server-side producers). */
export const SchemaFormat = { JsonSchema: "json-schema", Protobuf: "protobuf", Avro: "avro" } as const;
export type SchemaFormat = (typeof SchemaFormat)[keyof typeof SchemaFormat];
export const SchemaFormatSchema = v.picklist([SchemaFormat.JsonSchema, SchemaFormat.Protobuf, SchemaFormat.Avro], "format must be json-schema, protobuf or avro");

/** The draft of a schema without `$schema`. */
export const DEFAULT_SCHEMA_DRAFT: SchemaDraft = SchemaDraft.Draft2020_12;

/** `$schema` URIs we accept (with or without the empty fragment), and the draft each names. */
const DRAFT_BY_URI: Readonly<Record<string, SchemaDraft>> = {
  "https://json-schema.org/draft/2019-09/schema": SchemaDraft.Draft2019_09,
  "https://json-schema.org/draft/2020-12/schema": SchemaDraft.Draft2020_12,
};

/** Most bytes of one schema (its JSON text): a schema is a contract, not a payload. */
export const MAX_SCHEMA_BYTES = 64 * 1024;
/** Deepest nesting of objects and arrays in a schema: keeps validation far from stack limits. */
export const MAX_SCHEMA_DEPTH = 64;
/** Most versions one schema name may have. */
export const MAX_SCHEMA_VERSIONS = 100;
export const MAX_SCHEMA_DESCRIPTION_LENGTH = 1024;
/** Most failing messages named in one `schema_violation` error (the count is always exact). */
export const MAX_REPORTED_VIOLATIONS = 20;
/** Longest `reason` text of one violation. */
const MAX_REASON_LENGTH = 300;

/**
 * How a schema's versions may evolve (Confluent's and Memphis's rules), set per schema name:
 * - `backward` (the default): a new version accepts every value the latest one accepts;
 * - `forward`: the latest version accepts every value the new one accepts;
 * - `full`: both; `none`: any new version is taken.
 */
export const Compatibility = { None: "none", Backward: "backward", Forward: "forward", Full: "full" } as const;
export type Compatibility = (typeof Compatibility)[keyof typeof Compatibility];
export const DEFAULT_COMPATIBILITY: Compatibility = Compatibility.Backward;
export const CompatibilitySchema = v.picklist(
  [Compatibility.None, Compatibility.Backward, Compatibility.Forward, Compatibility.Full],
  "compatibility must be none, backward, forward or full",
);

/** What a refused new version breaks, named as the change from the latest version to it. */
export const CompatibilityRule = {
  RequiredAdded: "required_added",
  RequiredRemoved: "required_removed",
  TypeNarrowed: "type_narrowed",
  TypeWidened: "type_widened",
  EnumShrunk: "enum_shrunk",
  EnumGrown: "enum_grown",
  ConstChanged: "const_changed",
  AdditionalPropertiesTightened: "additional_properties_tightened",
  AdditionalPropertiesLoosened: "additional_properties_loosened",
  BoundTightened: "bound_tightened",
  BoundLoosened: "bound_loosened",
  PatternChanged: "pattern_changed",
  FormatChanged: "format_changed",
  UniqueItemsAdded: "unique_items_added",
  UniqueItemsRemoved: "unique_items_removed",
  /** A construct whose effect can't be compared ($ref into changed definitions, changed oneOf/anyOf/allOf, patternProperties, if/then/else…): refused. */
  Undecidable: "undecidable",
} as const;
export type CompatibilityRule = (typeof CompatibilityRule)[keyof typeof CompatibilityRule];

/** One place where a new version breaks its schema's compatibility rule. */
export interface CompatibilityBreak {
  /** JSON Pointer into the schemas, to the keyword that breaks the rule; for Avro, into the data (fields by name, `*` for items and values, union branches by name). */
  path: string;
  rule: CompatibilityRule;
  message: string;
}

/** The details of a `409 incompatible_schema` (beside `code` and `message`). */
export interface IncompatibleSchemaDetails {
  schema: string;
  compatibility: Compatibility;
  /** The version the new one was compared with (the latest). */
  latestVersion: number;
  /** The first places that break (at most 20). */
  breaks: CompatibilityBreak[];
}

/**
 * `PUT /v1/schemas/{name}`: the JSON Schema itself (an object or a boolean), a note, and
 * optionally its draft (else `$schema` says, else 2020-12). A body without a `schema` key is
 * taken as the JSON Schema itself (see putSchemaRequestOf).
 */
export const PutSchemaRequestSchema = v.strictObject({
  // A plain object kept as it came (a record schema would copy it, and take arrays for objects).
  schema: v.custom<Record<string, unknown> | boolean>(
    (value) => typeof value === "boolean" || (typeof value === "object" && value !== null && !Array.isArray(value)),
    "schema must be a JSON Schema (an object or a boolean)",
  ),
  description: v.optional(v.pipe(v.string(), v.maxLength(MAX_SCHEMA_DESCRIPTION_LENGTH))),
  draft: v.optional(v.picklist([SchemaDraft.Draft2019_09, SchemaDraft.Draft2020_12], "draft must be 2019-09 or 2020-12")),
  /** Sets the schema's rule from this version on (this version is judged by it). Absent: unchanged (`backward` for a new name). */
  compatibility: v.optional(CompatibilitySchema),
  /** `protobuf`: `schema` is `{fileDescriptorSet: "<base64>", messageType: "pkg.Name"}`; `avro`: an Avro schema object (docs/schemas.md). Default `json-schema`. */
  format: v.optional(SchemaFormatSchema),
});
export type PutSchemaRequest = v.InferOutput<typeof PutSchemaRequestSchema>;

/**
 * Both body forms of `PUT /v1/schemas/{name}` as one request: `{"schema": …, "description"?,
 * "draft"?}`, or the bare JSON Schema (no `schema` key; its own `description`, if a short
 * string, becomes the version's). JSON Schema has no `schema` keyword, so the two never mix up.
 *
 * @example putSchemaRequestOf({ type: "string" }) // → { schema: { type: "string" } }
 */
export function putSchemaRequestOf(body: unknown): unknown {
  const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
  if (isObject && Object.prototype.hasOwnProperty.call(body, "schema")) return body;
  const note = isObject ? (body as { description?: unknown }).description : undefined;
  const description = typeof note === "string" && note.length <= MAX_SCHEMA_DESCRIPTION_LENGTH ? note : undefined;
  return description === undefined ? { schema: body } : { schema: body, description };
}

/** A version number, or `latest`, as a path segment. */
export const SchemaVersionParamSchema = v.union([
  v.pipe(v.string(), v.regex(/^[1-9]\d{0,8}$/, "version must be a number or latest"), v.transform(Number), positiveInt),
  v.literal("latest"),
]);

/** One immutable version of a schema. */
export interface SchemaVersion {
  name: string;
  version: number;
  format: SchemaFormat;
  /** The JSON Schema draft (meaningless for protobuf and avro). */
  draft: SchemaDraft;
  description: string | null;
  /** The JSON Schema as it was stored (protobuf: `{fileDescriptorSet, messageType}`; avro: the Avro schema). */
  schema: unknown;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
}

/** `PUT /v1/schemas/{name}` answer: 201 with `created: true`, or 200 when equal to the latest. */
export interface PutSchemaResponse extends SchemaVersion {
  created: boolean;
  /** The schema's rule for its next versions. */
  compatibility: Compatibility;
}

/** `GET /v1/schemas/{name}`: every version, oldest first. */
export interface SchemaVersionsResponse {
  name: string;
  latestVersion: number;
  compatibility: Compatibility;
  versions: SchemaVersion[];
}

export interface SchemaSummary {
  name: string;
  latestVersion: number;
  compatibility: Compatibility;
  description: string | null;
  draft: SchemaDraft;
  createdAt: number;
  updatedAt: number;
}

/** `GET /v1/schemas` */
export interface SchemaListResponse {
  schemas: SchemaSummary[];
}

/** A station's schema reference once resolved: `latest` replaced by the version in force. */
export interface ResolvedSchemaRef {
  name: string;
  version: number;
}

/** `GET /v1/stations/{station}/schema`: what the station validates produce against now. */
export const StationSchemaResponseSchema = v.object({
  station: v.string(),
  /** Null when the station has no schema. */
  schema: v.nullable(
    v.object({
      name: v.string(),
      version: positiveInt,
      /** Whether the station follows new versions (`latest`) or stays on this one. */
      follows: v.union([v.literal("latest"), v.literal("fixed")]),
      /** Absent from answers before protobuf existed: json-schema. The browser checks json-schema only (protobuf and avro are the station's). */
      format: v.optional(SchemaFormatSchema),
      draft: v.picklist([SchemaDraft.Draft2019_09, SchemaDraft.Draft2020_12]),
      schema: v.unknown(),
    }),
  ),
});
export type StationSchemaResponse = v.InferOutput<typeof StationSchemaResponseSchema>;

/**
 * The draft a schema declares with `$schema`, the default draft without one, or null for a
 * draft we do not support (drafts 4, 6 and 7, or an unknown URI).
 *
 * @example draftOf({ $schema: "https://json-schema.org/draft/2019-09/schema" }) // → "2019-09"
 */
export function draftOf(schema: unknown): SchemaDraft | null {
  if (typeof schema !== "object" || schema === null || !("$schema" in schema)) return DEFAULT_SCHEMA_DRAFT;
  const uri = (schema as { $schema: unknown }).$schema;
  if (typeof uri !== "string") return null;
  return DRAFT_BY_URI[uri.endsWith("#") ? uri.slice(0, -1) : uri] ?? null;
}

export function supportedSchemaUris(): string[] {
  return Object.keys(DRAFT_BY_URI);
}

/** Why one message of a batch fails the station's schema. */
export interface SchemaViolation {
  /** The message's index in the batch. */
  index: number;
  seq: number | null;
  /** JSON Pointer into the message body ("" for the body itself). */
  path: string;
  /** The schema keyword that failed, e.g. `type`, `required`. */
  keyword: string;
  /** JSON Pointer into the schema, to the keyword that failed. */
  schemaPath: string;
  reason: string;
}

/** The details of a `schema_violation` error (beside `code` and `message`). */
export interface SchemaViolationDetails {
  schema: ResolvedSchemaRef;
  /** The first failing messages, in batch order, at most MAX_REPORTED_VIOLATIONS. */
  violations: SchemaViolation[];
  /** How many messages of the batch fail in all. */
  violationCount: number;
}

/** One error as JSON Schema validators report it (the "basic" output format). */
export interface SchemaOutputUnit {
  keyword: string;
  keywordLocation: string;
  instanceLocation: string;
  error: string;
}

/**
 * Picks the most telling error of a failed validation: the first one at the deepest place in
 * the body. A `false` subschema says only "False boolean schema", so its parent speaks for it.
 */
export function describeFailure(errors: readonly SchemaOutputUnit[]): Omit<SchemaViolation, "index" | "seq"> {
  let best = -1;
  let bestDepth = -1;
  errors.forEach((unit, i) => {
    const depth = pointerDepth(unit.instanceLocation);
    if (depth > bestDepth) {
      best = i;
      bestDepth = depth;
    }
  });
  const unit = errors[best];
  if (!unit) return { path: "", keyword: "schema", schemaPath: "", reason: "The body does not match the schema." };
  const parent = unit.keyword === "false" && best > 0 ? errors[best - 1]! : unit;
  return {
    path: pointerOf(unit.instanceLocation),
    keyword: parent.keyword,
    schemaPath: pointerOf(parent.keywordLocation),
    reason: parent.error.length > MAX_REASON_LENGTH ? `${parent.error.slice(0, MAX_REASON_LENGTH - 1)}…` : parent.error,
  };
}

/** Summarises violations for an error message: "2 of 3 messages fail schema orders v2: …". */
export function violationMessage(ref: ResolvedSchemaRef, violations: readonly SchemaViolation[], count: number, total: number): string {
  const first = violations[0];
  const where = first ? `; message ${first.index}${first.path ? ` at ${first.path}` : ""}: ${first.reason}` : "";
  return `${count} of ${total} message${total === 1 ? "" : "s"} fail${count === 1 ? "s" : ""} schema ${ref.name} v${ref.version}${where}`;
}

/** "#/a/0" → "/a/0"; "#" → "". */
function pointerOf(location: string): string {
  return location.startsWith("#") ? location.slice(1) : location;
}

function pointerDepth(location: string): number {
  let depth = 0;
  for (let i = 0; i < location.length; i++) if (location[i] === "/") depth++;
  return depth;
}
