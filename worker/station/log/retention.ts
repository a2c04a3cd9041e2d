// Retention: trims the head of the log by age, count and bytes. Driven by the alarm, bounded
// per run (a huge backlog is trimmed over several runs), and idempotent: alarms may repeat.
import { trimBelow } from "./messages";
import type { StationRecord } from "./record";

/** Most messages one alarm run deletes; more waiting means the next run is due at once. */
const MAX_TRIM_PER_RUN = 10_000;

/** When retention next has work to do, or null if it has none. */
export function retentionDueAt(sql: SqlStorage, record: StationRecord, now: number): number | null {
  const { maxAgeMs, maxMessages, maxBytes } = record.config.retention;
  if (record.messageCount === 0) return null;
  if (maxMessages !== undefined && record.messageCount > maxMessages) return now;
  if (maxBytes !== undefined && record.byteCount > maxBytes) return now;
  if (maxAgeMs !== undefined) {
    const oldest = sql.exec<{ produced_at: number }>("SELECT produced_at FROM messages ORDER BY msg_offset LIMIT 1").toArray()[0];
    if (oldest) return oldest.produced_at + maxAgeMs;
  }
  return null;
}

/** Trims what retention asks for now; returns how many messages went. With `retention.archive`
 *  the station archives instead (worker/station/archive/archiver.ts), to the same target. */
export function enforceRetention(sql: SqlStorage, record: StationRecord, now: number): number {
  return trimBelow(sql, record, retentionTarget(sql, record, now));
}

/** The offset retention moves the head to in this run: everything below it goes (at most
 *  MAX_TRIM_PER_RUN messages; `trimBelow` still stops at a doc's ceiling). */
export function retentionTarget(sql: SqlStorage, record: StationRecord, now: number): number {
  const { maxAgeMs, maxMessages, maxBytes } = record.config.retention;
  let cutoff = record.firstOffset;
  if (maxMessages !== undefined && record.messageCount > maxMessages) {
    cutoff = Math.max(cutoff, record.nextOffset - maxMessages);
  }
  if (maxBytes !== undefined && record.byteCount > maxBytes) {
    cutoff = Math.max(cutoff, firstOffsetWithin(sql, record, maxBytes));
  }
  if (maxAgeMs !== undefined) {
    cutoff = Math.max(cutoff, firstOffsetYoungerThan(sql, record, now - maxAgeMs));
  }
  return Math.min(cutoff, record.firstOffset + MAX_TRIM_PER_RUN);
}

/** The lowest offset from which on the log holds at most `maxBytes`. */
function firstOffsetWithin(sql: SqlStorage, record: StationRecord, maxBytes: number): number {
  let excess = record.byteCount - maxBytes;
  const rows = sql
    .exec<{ msg_offset: number; bytes: number }>("SELECT msg_offset, bytes FROM messages ORDER BY msg_offset LIMIT ?", MAX_TRIM_PER_RUN)
    .toArray();
  for (const row of rows) {
    if (excess <= 0) return row.msg_offset;
    excess -= row.bytes;
  }
  return (rows.at(-1)?.msg_offset ?? record.firstOffset - 1) + 1;
}

/** The lowest offset produced at or after `cutoff` (offsets grow with time). */
function firstOffsetYoungerThan(sql: SqlStorage, record: StationRecord, cutoff: number): number {
  const row = sql
    .exec<{ msg_offset: number }>("SELECT msg_offset FROM messages WHERE produced_at >= ? ORDER BY msg_offset LIMIT 1", cutoff)
    .toArray()[0];
  return row?.msg_offset ?? record.nextOffset;
}
