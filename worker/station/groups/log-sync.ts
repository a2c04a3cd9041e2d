// Groups and retention: when the log's head moves up (any retention), groups skip what is
// gone — cursors move to the head, deliveries of trimmed messages end — and with
// `retention.untilAcked` the head moves up to the first offset some group has not acked.
// Offsets stay dense and are never reused: only `trimBelow` of the log deletes messages.
import { trimBelow, trimCeiling } from "../log/messages";
import type { StationRecord } from "../log/record";

/** Ends deliveries of trimmed messages (but those kept for resend) and moves cursors to the head. */
export function skipTrimmed(sql: SqlStorage, record: StationRecord): void {
  const head = record.firstOffset;
  const ended = sql
    .exec<{ group_name: string; n: number }>(
      `SELECT group_name, count(*) AS n FROM deliveries d WHERE msg_offset < ?
         AND NOT EXISTS (SELECT 1 FROM kept_messages k WHERE k.group_name = d.group_name AND k.msg_offset = d.msg_offset)
       GROUP BY group_name`,
      head,
    )
    .toArray();
  if (ended.length > 0) {
    sql.exec(
      `DELETE FROM deliveries WHERE msg_offset < ?
         AND NOT EXISTS (SELECT 1 FROM kept_messages k WHERE k.group_name = deliveries.group_name AND k.msg_offset = deliveries.msg_offset)`,
      head,
    );
    for (const { group_name, n } of ended) sql.exec("UPDATE groups SET skipped = skipped + ? WHERE name = ?", n, group_name);
  }
  sql.exec("UPDATE groups SET skipped = skipped + (? - next_offset), next_offset = ? WHERE next_offset < ?", head, head, head);
}

/**
 * The lowest offset some group still owes an ack for: below it, every group acked (or
 * dead-lettered, or skipped) everything. Null without groups: with no group yet, nobody has
 * acked anything, and `untilAcked` keeps every message rather than deleting it unread.
 */
export function firstUnackedOffset(sql: SqlStorage): number | null {
  return sql
    .exec<{ first: number | null }>(
      `SELECT min(coalesce((SELECT min(msg_offset) FROM deliveries d WHERE d.group_name = g.name), g.next_offset)) AS first
       FROM groups g`,
    )
    .one().first;
}

/** Most messages one `untilAcked` pass deletes; the rest go on the next alarm run. */
export const MAX_ACKED_TRIM_PER_RUN = 10_000;

/**
 * `retention.untilAcked`: deletes the prefix of the log every group has acked, bounded per
 * call. `otherFirstUnacked` is the same floor for readers outside the groups table
 * (webhook endpoints), or null. Saves the record when it trimmed.
 */
export function trimAcked(sql: SqlStorage, record: StationRecord, otherFirstUnacked: number | null = null): number {
  if (!record.config.retention.untilAcked) return 0;
  const target = untilAckedTarget(sql, otherFirstUnacked);
  if (target === null || target <= record.firstOffset) return 0;
  const trimmed = trimBelow(sql, record, Math.min(target, record.firstOffset + MAX_ACKED_TRIM_PER_RUN));
  if (trimmed > 0) record.save(sql);
  return trimmed;
}

/** Whether `untilAcked` has messages to delete now. */
export function acknowledgedPrefixWaiting(sql: SqlStorage, record: StationRecord, otherFirstUnacked: number | null = null): boolean {
  if (!record.config.retention.untilAcked || record.messageCount === 0) return false;
  const target = untilAckedTarget(sql, otherFirstUnacked);
  return target !== null && Math.min(target, trimCeiling(sql, record)) > record.firstOffset;
}

function untilAckedTarget(sql: SqlStorage, otherFirstUnacked: number | null): number | null {
  const groups = firstUnackedOffset(sql);
  if (groups === null) return otherFirstUnacked;
  return otherFirstUnacked === null ? groups : Math.min(groups, otherFirstUnacked);
}
