// The Catalog Durable Object: one per deployment, the index of stations (for listing) and
// later of schemas and keys. Each Station object is the authority on its own existence and
// config; the catalog follows it, so a produce never waits on the catalog.
import { DurableObject } from "cloudflare:workers";
import type { StationConfig } from "../../shared/config";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { Compatibility, SchemaSummary } from "../../shared/schemas";
import type { StationListEntry } from "../../shared/stations";
import type { EnvVars } from "../env-vars";
import {
  type AddedSchema,
  addSchemaVersion,
  compatibilityOf,
  findSchemaVersion,
  listSchemas,
  listSchemaVersions,
  type NewSchemaVersion,
  type StoredSchema,
  stationsFollowingLatest,
} from "./schema-store";
import { migrateCatalog } from "./sql-schema";

interface StationRow {
  name: string;
  config: string;
  created_at: number;
  updated_at: number;
  [column: string]: SqlStorageValue;
}

export class Catalog extends DurableObject<EnvVars> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: EnvVars) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrateCatalog(this.sql);
  }

  async recordStation(entry: StationListEntry): Promise<void> {
    this.sql.exec(
      `INSERT INTO stations (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET config = excluded.config, created_at = excluded.created_at, updated_at = excluded.updated_at`,
      entry.name,
      JSON.stringify(entry.config),
      entry.createdAt,
      entry.updatedAt,
    );
  }

  /**
   * Before a scoped token creates a station under `prefix` (the part its `prefix.*` grant
   * names; "" for a `*` grant): refuses with 409 `too_many_stations` when `max` stations
   * already hold that prefix, else lists the station at once, so that concurrent creations
   * cannot both slip under the cap. `reserved` says whether it was new (to forget it again if
   * its creation fails). A station already listed is an update: always admitted.
   */
  async reserveStation(entry: StationListEntry, prefix: string, max: number): Promise<Result<{ reserved: boolean }>> {
    if (this.sql.exec("SELECT 1 FROM stations WHERE name = ?", entry.name).toArray().length > 0) return ok({ reserved: false });
    // Station names are [a-z0-9._-]: every name under the prefix sorts below prefix + "{".
    const held = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM (SELECT 1 FROM stations WHERE name >= ? AND name < ? LIMIT ?)", prefix, `${prefix}{`, max)
      .one().n;
    if (held >= max) {
      return fail(ErrorCode.TooManyStations, `${max} stations already start with "${prefix}", the most one token prefix may hold: delete one first`, {
        prefix,
        max,
      });
    }
    await this.recordStation(entry);
    return ok({ reserved: true });
  }

  async forgetStation(name: string): Promise<void> {
    this.sql.exec("DELETE FROM stations WHERE name = ?", name);
  }

  async listStations(): Promise<StationListEntry[]> {
    return this.sql
      .exec<StationRow>("SELECT name, config, created_at, updated_at FROM stations ORDER BY name")
      .toArray()
      .map((row) => ({
        name: row.name,
        config: JSON.parse(row.config) as StationConfig,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }));
  }

  /** Adds a version of a schema (checked at the edge), and names the stations following its latest. */
  async addSchema(name: string, input: NewSchemaVersion): Promise<Result<AddedSchema & { followers: string[] }>> {
    const added = addSchemaVersion(this.sql, name, input, Date.now());
    if (!added.ok) return added;
    return { ok: true, value: { ...added.value, followers: added.value.created ? stationsFollowingLatest(this.sql, name) : [] } };
  }

  async getSchema(name: string, version: number | "latest"): Promise<Result<StoredSchema>> {
    return findSchemaVersion(this.sql, name, version);
  }

  async schemaVersions(name: string): Promise<Result<{ versions: StoredSchema[]; compatibility: Compatibility }>> {
    const versions = listSchemaVersions(this.sql, name);
    return versions.ok ? ok({ versions: versions.value, compatibility: compatibilityOf(this.sql, name) }) : versions;
  }

  async listSchemas(): Promise<SchemaSummary[]> {
    return listSchemas(this.sql);
  }
}
