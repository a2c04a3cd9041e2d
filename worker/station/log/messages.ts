// The log itself: appending messages at the next offsets, reading ranges, trimming the head.
// Offsets are dense and never reused; every function here runs inside the caller's transaction.
import { StationKind } from "../../../shared/config";
// The snapshot module itself, not the feature's entry: documents read the log, so this stays a leaf edge.
import { readSnapshotMeta } from "../documents/snapshot";
import { MESSAGE_COLUMNS, type MessageRow } from "./rows";
import type { PreparedMessage } from "./batch";
import type { StationRecord } from "./record";

/** `schemaVersion`: the version of the station's schema the body was checked against, or null. */
export function appendMessage(
  sql: SqlStorage,
  record: StationRecord,
  producer: string | null,
  message: PreparedMessage,
  now: number,
  schemaVersion: number | null = null,
): number {
  const offset = record.nextOffset;
  sql.exec(
    `INSERT INTO messages (msg_offset, producer, seq, msg_id, msg_key, headers, body, produced_at, bytes, visible_at, schema_version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    offset,
    producer,
    message.seq,
    message.id,
    message.key,
    message.headers,
    message.body,
    now,
    message.bytes,
    // Numbered and stored now; groups and webhooks see it from producedAt + delayMs.
    message.delayMs > 0 ? now + message.delayMs : null,
    schemaVersion,
  );
  record.nextOffset = offset + 1;
  record.messageCount += 1;
  record.byteCount += message.bytes;
  record.producedCount += 1;
  return offset;
}

export function readMessages(sql: SqlStorage, fromOffset: number, limit: number): MessageRow[] {
  return sql.exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset >= ? ORDER BY msg_offset LIMIT ?`, fromOffset, limit).toArray();
}

/** Delayed messages whose time has not come (`stats.delayed`). */
export function countDelayed(sql: SqlStorage, now: number): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE visible_at > ?", now).one().n;
}

/** When the next delayed message becomes visible, or null if none waits: the alarm wakes groups and webhooks then. */
export function nextVisibleAt(sql: SqlStorage, now: number): number | null {
  return sql.exec<{ at: number | null }>("SELECT min(visible_at) AS at FROM messages WHERE visible_at > ?", now).one().at;
}

/**
 * The highest offset the head may move to. A doc station keeps every update its snapshot does
 * not hold yet (worker/station/documents/compaction.ts): its state must never lose one.
 */
export function trimCeiling(sql: SqlStorage, record: StationRecord): number {
  if (record.config.kind !== StationKind.Doc) return record.nextOffset;
  return Math.min(record.nextOffset, readSnapshotMeta(sql).coversOffset + 1);
}

/** Deletes every message below `offset` (never above `trimCeiling`) and moves the head there. */
export function trimBelow(sql: SqlStorage, record: StationRecord, offset: number): number {
  const target = Math.min(offset, trimCeiling(sql, record));
  if (target <= record.firstOffset) return 0;
  const gone = sql
    .exec<{ n: number; bytes: number | null }>("SELECT count(*) AS n, sum(bytes) AS bytes FROM messages WHERE msg_offset < ?", target)
    .one();
  sql.exec("DELETE FROM messages WHERE msg_offset < ?", target);
  record.firstOffset = target;
  record.messageCount -= gone.n;
  record.byteCount -= gone.bytes ?? 0;
  return gone.n;
}
