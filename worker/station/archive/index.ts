// The archive's index inside the station object: one row per segment written to R2, with its
// offset range, counts and key. A segment is `pending` from the moment its range is chosen until
// the transaction that deletes its rows from the log marks it done, so a run cut short (crash,
// eviction, R2 error) writes the very same range again, under the same key, next time.
import { applyMigrations } from "../../storage/migrations";

const ARCHIVE_MIGRATIONS = {
  archive: [
    `CREATE TABLE archive_segments (
      first_offset INTEGER PRIMARY KEY,
      last_offset INTEGER NOT NULL,
      object_key TEXT NOT NULL,
      messages INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      done INTEGER NOT NULL
    );`,
  ],
};

export function migrateArchive(sql: SqlStorage): void {
  applyMigrations(sql, ARCHIVE_MIGRATIONS);
}

export interface Segment {
  first: number;
  last: number;
  key: string;
  messages: number;
  bytes: number;
}

interface SegmentRow {
  first_offset: number;
  last_offset: number;
  object_key: string;
  messages: number;
  bytes: number;
  [column: string]: SqlStorageValue;
}

const toSegment = (row: SegmentRow): Segment => ({ first: row.first_offset, last: row.last_offset, key: row.object_key, messages: row.messages, bytes: row.bytes });

/** The segment chosen and not yet done, if any (at most one: runs archive in order). */
export function pendingSegment(sql: SqlStorage): Segment | null {
  const row = sql.exec<SegmentRow>("SELECT * FROM archive_segments WHERE done = 0 ORDER BY first_offset LIMIT 1").toArray()[0];
  return row ? toSegment(row) : null;
}

export function recordPending(sql: SqlStorage, segment: Segment): void {
  sql.exec(
    "INSERT OR REPLACE INTO archive_segments (first_offset, last_offset, object_key, messages, bytes, done) VALUES (?, ?, ?, ?, ?, 0)",
    segment.first,
    segment.last,
    segment.key,
    segment.messages,
    segment.bytes,
  );
}

export function markDone(sql: SqlStorage, first: number): void {
  sql.exec("UPDATE archive_segments SET done = 1 WHERE first_offset = ?", first);
}

export function dropPending(sql: SqlStorage, first: number): void {
  sql.exec("DELETE FROM archive_segments WHERE first_offset = ? AND done = 0", first);
}

/** Done segments holding offsets at or above `from`, in offset order, at most `limit`. */
export function segmentsFrom(sql: SqlStorage, from: number, limit: number): Segment[] {
  return sql
    .exec<SegmentRow>("SELECT * FROM archive_segments WHERE done = 1 AND last_offset >= ? ORDER BY first_offset LIMIT ?", from, limit)
    .toArray()
    .map(toSegment);
}

/** The lowest archived offset, or null when nothing is archived. */
export function firstArchivedOffset(sql: SqlStorage): number | null {
  return sql.exec<{ first: number | null }>("SELECT min(first_offset) AS first FROM archive_segments WHERE done = 1").one().first;
}

export interface ArchiveTotals {
  archivedMessages: number;
  archivedBytes: number;
  archivedSegments: number;
}

export function archiveTotals(sql: SqlStorage): ArchiveTotals {
  const row = sql
    .exec<{ n: number; messages: number; bytes: number }>(
      "SELECT count(*) AS n, coalesce(sum(messages), 0) AS messages, coalesce(sum(bytes), 0) AS bytes FROM archive_segments WHERE done = 1",
    )
    .one();
  return { archivedMessages: row.messages, archivedBytes: row.bytes, archivedSegments: row.n };
}
