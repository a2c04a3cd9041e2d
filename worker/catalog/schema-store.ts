// The catalog's schemas: immutable versions numbered 1, 2, 3… per name, each judged against the
// latest by the name's compatibility rule. Adding one equal to the latest returns the latest.
// Synchronous SQL only, so each call is atomic inside the single-threaded Catalog object.
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import { MAX_SCHEMAS } from "../../shared/limits";
import {
  type Compatibility,
  DEFAULT_COMPATIBILITY,
  type IncompatibleSchemaDetails,
  MAX_SCHEMA_VERSIONS,
  type SchemaDraft,
  SchemaFormat,
  type SchemaSummary,
} from "../../shared/schemas";
import { canonicalJson } from "../schemas/canonical-json";
import { versionBreaks } from "../schemas/version-breaks";

/** A schema version as the catalog keeps it: the schema as JSON text. */
export interface StoredSchema {
  name: string;
  version: number;
  format: SchemaFormat;
  draft: SchemaDraft;
  description: string | null;
  text: string;
  createdAt: number;
}

export interface NewSchemaVersion {
  /** Absent: json-schema. */
  format?: SchemaFormat;
  draft: SchemaDraft;
  text: string;
  description: string | null;
  /** Sets the name's rule from this version on; absent: keep it (backward for a new name). */
  compatibility?: Compatibility;
}

interface SchemaRow {
  name: string;
  version: number;
  format: string;
  draft: string;
  description: string | null;
  body: string;
  created_at: number;
  [column: string]: SqlStorageValue;
}

const COLUMNS = "name, version, format, draft, description, body, created_at";

export interface AddedSchema {
  stored: StoredSchema;
  created: boolean;
  compatibility: Compatibility;
}

export function addSchemaVersion(sql: SqlStorage, name: string, input: NewSchemaVersion, now: number): Result<AddedSchema> {
  const latest = latestRow(sql, name);
  const compatibility = input.compatibility ?? compatibilityOf(sql, name);
  const format = input.format ?? SchemaFormat.JsonSchema;
  if (latest && latest.format === format && latest.description === input.description && canonicalJson(JSON.parse(latest.body)) === canonicalJson(JSON.parse(input.text))) {
    // The latest again: nothing to add, but a PUT may change the rule this way.
    if (input.compatibility) setCompatibility(sql, name, input.compatibility);
    return ok({ stored: toStored(latest), created: false, compatibility });
  }
  // A new name is one more schema: the deployment holds at most MAX_SCHEMAS of them.
  if (!latest && countSchemaNames(sql) >= MAX_SCHEMAS) {
    return fail(ErrorCode.TooManySchemas, `This deployment has ${MAX_SCHEMAS} schemas, the most it may have: add a version to an existing one`, {
      max: MAX_SCHEMAS,
    });
  }
  const version = (latest?.version ?? 0) + 1;
  if (version > MAX_SCHEMA_VERSIONS) {
    return fail(ErrorCode.Conflict, `Schema ${name} has ${MAX_SCHEMA_VERSIONS} versions, the most one schema may have; use a new name`, {
      maxVersions: MAX_SCHEMA_VERSIONS,
    });
  }
  if (latest) {
    const breaks = versionBreaks({ format: latest.format as SchemaFormat, text: latest.body }, { format, text: input.text }, compatibility);
    if (breaks.length > 0) {
      const details: IncompatibleSchemaDetails = { schema: name, compatibility, latestVersion: latest.version, breaks };
      const first = breaks[0]!;
      return fail(
        ErrorCode.IncompatibleSchema,
        `This version of ${name} breaks its ${compatibility} compatibility with v${latest.version} at ${first.path || "the root"} (${first.rule}: ${first.message})` +
          `${breaks.length > 1 ? ` and ${breaks.length - 1} more place${breaks.length > 2 ? "s" : ""}` : ""}; ` +
          `use a new schema name, or PUT with "compatibility": "none" to allow it`,
        { ...details },
      );
    }
  }
  if (input.compatibility) setCompatibility(sql, name, input.compatibility);
  sql.exec(
    `INSERT INTO schemas (name, version, format, draft, description, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    name,
    version,
    format,
    input.draft,
    input.description,
    input.text,
    now,
  );
  return ok({ stored: { name, version, format, draft: input.draft, description: input.description, text: input.text, createdAt: now }, created: true, compatibility });
}

/** The rule new versions of `name` must follow (backward unless set). */
export function compatibilityOf(sql: SqlStorage, name: string): Compatibility {
  const row = sql.exec<{ compatibility: string }>("SELECT compatibility FROM schema_settings WHERE name = ?", name).toArray()[0];
  return (row?.compatibility as Compatibility | undefined) ?? DEFAULT_COMPATIBILITY;
}

function setCompatibility(sql: SqlStorage, name: string, compatibility: Compatibility): void {
  sql.exec(
    "INSERT INTO schema_settings (name, compatibility) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET compatibility = excluded.compatibility",
    name,
    compatibility,
  );
}

export function findSchemaVersion(sql: SqlStorage, name: string, version: number | "latest"): Result<StoredSchema> {
  const row =
    version === "latest"
      ? latestRow(sql, name)
      : sql.exec<SchemaRow>(`SELECT ${COLUMNS} FROM schemas WHERE name = ? AND version = ?`, name, version).toArray()[0];
  if (!row) return notFound(name, version);
  return ok(toStored(row));
}

export function listSchemaVersions(sql: SqlStorage, name: string): Result<StoredSchema[]> {
  const rows = sql.exec<SchemaRow>(`SELECT ${COLUMNS} FROM schemas WHERE name = ? ORDER BY version`, name).toArray();
  if (rows.length === 0) return notFound(name, "latest");
  return ok(rows.map(toStored));
}

export function listSchemas(sql: SqlStorage): SchemaSummary[] {
  return sql
    .exec<SchemaRow & { first_at: number; compatibility: string | null }>(
      `SELECT s.name, s.version, s.draft, s.description, s.created_at, f.first_at, c.compatibility
       FROM schemas s JOIN (SELECT name, max(version) AS latest, min(created_at) AS first_at FROM schemas GROUP BY name) f
         ON s.name = f.name AND s.version = f.latest
       LEFT JOIN schema_settings c ON c.name = s.name
       ORDER BY s.name`,
    )
    .toArray()
    .map((row) => ({
      name: row.name,
      latestVersion: row.version,
      compatibility: (row.compatibility as Compatibility | null) ?? DEFAULT_COMPATIBILITY,
      description: row.description,
      draft: row.draft as SchemaDraft,
      createdAt: row.first_at,
      updatedAt: row.created_at,
    }));
}

/** Stations whose config follows the latest version of `name`, as the catalog last recorded them. */
export function stationsFollowingLatest(sql: SqlStorage, name: string): string[] {
  return sql
    .exec<{ name: string }>(
      `SELECT name FROM stations
       WHERE json_extract(config, '$.schema.name') = ? AND json_extract(config, '$.schema.version') = 'latest'
       ORDER BY name`,
      name,
    )
    .toArray()
    .map((row) => row.name);
}

function countSchemaNames(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(DISTINCT name) AS n FROM schemas").one().n;
}

function latestRow(sql: SqlStorage, name: string): SchemaRow | undefined {
  return sql.exec<SchemaRow>(`SELECT ${COLUMNS} FROM schemas WHERE name = ? ORDER BY version DESC LIMIT 1`, name).toArray()[0];
}

function toStored(row: SchemaRow): StoredSchema {
  return {
    name: row.name,
    version: row.version,
    format: row.format as SchemaFormat,
    draft: row.draft as SchemaDraft,
    description: row.description,
    text: row.body,
    createdAt: row.created_at,
  };
}

function notFound(name: string, version: number | "latest"): Result<never> {
  const what = version === "latest" ? `No schema named ${name}` : `Schema ${name} has no version ${version}`;
  return fail(ErrorCode.SchemaNotFound, `${what}: add it with PUT /v1/schemas/${name}`, { schema: name, version });
}
