// The catalog's stored schema versions as the wire shows them (schema text parsed back to JSON).
import type { SchemaVersion } from "../../shared/schemas";
import type { StoredSchema } from "../catalog/schema-store";

export function toSchemaVersion(stored: StoredSchema): SchemaVersion {
  return {
    name: stored.name,
    version: stored.version,
    format: stored.format,
    draft: stored.draft,
    description: stored.description,
    schema: JSON.parse(stored.text) as unknown,
    createdAt: stored.createdAt,
  };
}
