// Moving a group (`POST …/groups/{group}/seek`): resolves the target to the next offset to hand
// out, then drops everything the group had in flight — leases, redeliveries waiting, delayed
// messages parked, kept copies — and bumps its epoch. Runs inside the caller's transaction.
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import type { SeekTarget } from "../../../shared/groups";
import type { StationRecord } from "../log/record";
import type { GroupRow } from "./group-state";

/** Where a seek left the group, and how many leases it dropped. */
export interface Moved {
  position: number;
  dropped: number;
  epoch: number;
}

/**
 * The offset the group hands out next after a seek to `target`. Offsets below the log's head are
 * gone (retention): a seek there lands on the head. `{time}` is the first stored message produced
 * at or after it (the end of the log when none is). An offset past the end is refused: it would
 * count messages not yet produced as acked.
 */
export function seekPosition(sql: SqlStorage, record: StationRecord, target: SeekTarget): Result<number> {
  if (target === "earliest") return ok(record.firstOffset);
  if (target === "latest") return ok(record.nextOffset);
  if ("offset" in target) {
    if (target.offset > record.nextOffset) {
      return fail(
        ErrorCode.InvalidRequest,
        `Offset ${target.offset} is past the end of the log (last offset ${record.lastOffset}): seek to at most ${record.nextOffset}, or to "latest"`,
        { issues: [{ path: "to.offset", message: `At most ${record.nextOffset}` }], lastOffset: record.lastOffset },
      );
    }
    return ok(Math.max(target.offset, record.firstOffset));
  }
  const first = sql
    .exec<{ first: number | null }>("SELECT min(msg_offset) AS first FROM messages WHERE produced_at >= ?", target.time)
    .one().first;
  return ok(first ?? record.nextOffset);
}

/**
 * Moves `group` to `target`: what lies below the new position counts as acked, what lies at or
 * after it as never handed out. Every delivery of the group ends (leases in flight, redeliveries
 * and delayed messages waiting) and the kept copies go; the epoch grows, so a consumer that
 * sends back the epoch its messages carried has its late acks and nacks ignored.
 */
export function seekGroup(sql: SqlStorage, record: StationRecord, group: GroupRow, target: SeekTarget, now: number): Result<Moved> {
  const resolved = seekPosition(sql, record, target);
  if (!resolved.ok) return resolved;
  const dropped = sql.exec("DELETE FROM deliveries WHERE group_name = ? AND lease_until IS NOT NULL RETURNING msg_offset", group.name).toArray().length;
  sql.exec("DELETE FROM deliveries WHERE group_name = ?", group.name);
  sql.exec("DELETE FROM kept_messages WHERE group_name = ?", group.name);
  const epoch = group.epoch + 1;
  sql.exec("UPDATE groups SET next_offset = ?, epoch = ?, updated_at = ? WHERE name = ?", resolved.value, epoch, now, group.name);
  group.next_offset = resolved.value;
  group.epoch = epoch;
  return ok({ position: resolved.value, dropped, epoch });
}
