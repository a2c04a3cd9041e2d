// Whether a new schema version may follow the latest under its schema's compatibility rule, by
// format: JSON Schema versions by the values they accept (compatibility.ts), Avro versions by Avro's
// schema resolution (avro/compatibility.ts). Protobuf versions, and a change of format, are not
// compared: refused as undecidable, so they need "compatibility": "none".
import { type Compatibility, type CompatibilityBreak, CompatibilityRule, SchemaFormat } from "../../shared/schemas";
import { avroTypeOf } from "./avro";
import { avroCompatibilityBreaks } from "./avro/compatibility";
import { compatibilityBreaks } from "./compatibility";

/** A version as the catalog keeps it: its format and its schema as JSON text. */
export interface VersionText {
  format: SchemaFormat;
  text: string;
}

/** Where `next` breaks `compatibility` after `previous` (empty: it may follow). */
export function versionBreaks(previous: VersionText, next: VersionText, compatibility: Compatibility): CompatibilityBreak[] {
  if (compatibility === "none") return [];
  if (previous.format !== next.format) {
    return [undecidable(`a ${next.format} version does not follow a ${previous.format} one under a rule: add it with "compatibility": "none"`)];
  }
  switch (next.format) {
    case SchemaFormat.JsonSchema:
      return compatibilityBreaks(JSON.parse(previous.text), JSON.parse(next.text), compatibility);
    case SchemaFormat.Avro: {
      const before = avroTypeOf(previous.text);
      const after = avroTypeOf(next.text);
      // Both were read when checked before storing; a stored version that no longer reads is not compared.
      if (!before.ok || !after.ok) return [undecidable(`an Avro version does not read: ${before.ok ? "the new one" : "the previous one"}`)];
      return avroCompatibilityBreaks(before.value, after.value, compatibility);
    }
    default:
      return [undecidable('protobuf versions are not compared: add it with "compatibility": "none"')];
  }
}

function undecidable(message: string): CompatibilityBreak {
  return { path: "", rule: CompatibilityRule.Undecidable, message };
}
