// The Catalog Durable Object: one per deployment, the index of stations (for listing) and
// later of schemas and keys. Each Station object is the authority on its own existence and
// config; the catalog follows it, so a produce never waits on the catalog.
import { DurableObject } from "cloudflare:workers";
import type { StationConfig } from "../../shared/config";
import type { Result } from "../../shared/errors";
import type { SchemaSummary } from "../../shared/schemas";
import type { StationListEntry } from "../../shared/stations";
import type { Env } from "../env";
import {
  addSchemaVersion,
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

export class Catalog extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrateCatalog(this.sql);
  }

  async recordStation(entry: StationListEntry): Promise<void> {
    this.sql.exec(
      `INSERT INTO stations (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      entry.name,
      JSON.stringify(entry.config),
      entry.createdAt,
      entry.updatedAt,
    );
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
  async addSchema(name: string, input: NewSchemaVersion): Promise<Result<{ stored: StoredSchema; created: boolean; followers: string[] }>> {
    const added = addSchemaVersion(this.sql, name, input, Date.now());
    if (!added.ok) return added;
    return { ok: true, value: { ...added.value, followers: added.value.created ? stationsFollowingLatest(this.sql, name) : [] } };
  }

  async getSchema(name: string, version: number | "latest"): Promise<Result<StoredSchema>> {
    return findSchemaVersion(this.sql, name, version);
  }

  async schemaVersions(name: string): Promise<Result<StoredSchema[]>> {
    return listSchemaVersions(this.sql, name);
  }

  async listSchemas(): Promise<SchemaSummary[]> {
    return listSchemas(this.sql);
  }
}
