// Runs a Durable Object's SQLite migrations: each part of the object (log, groups, webhooks…)
// has its own ordered list, each migration runs once, and `schema_versions` records how far
// each part got. Synchronous, as SQLite storage is; call it from the constructor.

export type Migrations = Readonly<Record<string, readonly string[]>>;

export function applyMigrations(sql: SqlStorage, migrations: Migrations): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  const applied = new Map(
    sql.exec<{ part: string; version: number }>("SELECT part, version FROM schema_versions").toArray().map((r) => [r.part, r.version]),
  );
  for (const [part, steps] of Object.entries(migrations)) {
    for (let version = applied.get(part) ?? 0; version < steps.length; version++) {
      sql.exec(steps[version]!);
      sql.exec(
        "INSERT INTO schema_versions (part, version) VALUES (?, ?) ON CONFLICT (part) DO UPDATE SET version = excluded.version",
        part,
        version + 1,
      );
    }
  }
}
