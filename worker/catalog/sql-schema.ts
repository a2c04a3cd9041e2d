// The Catalog object's SQLite schema, one ordered list of migrations per part.
// Never edit a shipped migration: append a new one.
import { applyMigrations, type Migrations } from "../storage/migrations";

const MIGRATIONS: Migrations = {
  stations: [
    `CREATE TABLE stations (
      name TEXT PRIMARY KEY,
      config TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;`,
  ],
  schemas: [
    `CREATE TABLE schemas (
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      draft TEXT NOT NULL,
      description TEXT,
      body TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (name, version)
    ) WITHOUT ROWID;`,
    // Each name's compatibility rule (worker/schemas/compatibility.ts); no row: backward.
    `CREATE TABLE schema_settings (
      name TEXT PRIMARY KEY,
      compatibility TEXT NOT NULL
    ) WITHOUT ROWID;`,
    // What each version is written in: json-schema, protobuf (worker/schemas/protobuf.ts) or avro (worker/schemas/avro/).
    `ALTER TABLE schemas ADD COLUMN format TEXT NOT NULL DEFAULT 'json-schema';`,
  ],
};

export function migrateCatalog(sql: SqlStorage): void {
  applyMigrations(sql, MIGRATIONS);
}
