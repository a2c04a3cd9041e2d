// What @valibot/to-json-schema cannot convert by itself, said once: the two `custom` schemas
// of shared/ get their JSON Schema here, and `check` actions (rules across fields, byte counts)
// are left to the worker, which still enforces them. Anything else unconvertible throws.
import type { ConversionConfig, JsonSchema } from "@valibot/to-json-schema";
import { BinaryBodySchema } from "../docs";
import { PutSchemaRequestSchema } from "../schemas";

/** `{"$binary": "<base64>"}` (shared/binary.ts). */
const BINARY_BODY: JsonSchema = {
  type: "object",
  properties: { $binary: { type: "string", contentEncoding: "base64" } },
  required: ["$binary"],
  additionalProperties: false,
};

/** A JSON Schema given to the schema registry: an object or a boolean. */
const ANY_JSON_SCHEMA: JsonSchema = { type: ["object", "boolean"] };

export const convertibleSchema: Pick<ConversionConfig, "ignoreActions" | "overrideSchema"> = {
  ignoreActions: ["check"],
  overrideSchema({ valibotSchema }) {
    if (valibotSchema === BinaryBodySchema.pipe[0]) return BINARY_BODY;
    if (valibotSchema === PutSchemaRequestSchema.entries.schema) return ANY_JSON_SCHEMA;
    return undefined;
  },
};
