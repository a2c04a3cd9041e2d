// How a delivery ends: acked (gone from the group for good), or failed — nacked, or its lease
// ran out — and then back in line, or to the DLS after `maxDeliveries` hand-outs. Also puts a
// resent dead letter back in line. Runs inside the caller's transaction; every step is
// idempotent (acks repeat, alarms repeat).
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import { DeadLetterReason } from "../../../shared/dead-letters";
import { addDeadLetter, contentOfRow, type StoredMessage } from "../dead-letters";
import type { StationRecord } from "../log/record";
import { type GroupRow, type GroupSettings, loadGroup, settingsOf } from "./group-state";
import { forgetKept, keepMessage, readOwedMessages } from "./kept-messages";

export interface Delivery {
  offset: number;
  deliveries: number;
}

/**
 * Which handed-out deliveries an ack or nack may settle: those of `offsets` handed out at least
 * once (a delayed message parked in line was never seen by a consumer) and, when the consumer
 * names the epoch its messages carried, handed out in that epoch — after a seek, the ack of a
 * dropped lease counts for nothing even once its message went out again. Binds group, offsets, epoch, epoch.
 */
const SETTLEABLE = "group_name = ? AND msg_offset IN (SELECT value FROM json_each(?)) AND deliveries > 0 AND (? IS NULL OR epoch = ?)";

/** Acks `offsets` for the group; returns how many were in flight (acked now, not before). */
export function ackOffsets(sql: SqlStorage, group: string, offsets: readonly number[], epoch: number | null = null): number {
  const list = JSON.stringify(offsets);
  const acked = sql
    .exec<{ msg_offset: number }>(`DELETE FROM deliveries WHERE ${SETTLEABLE} RETURNING msg_offset`, group, list, epoch, epoch)
    .toArray();
  if (acked.length === 0) return 0;
  forgetKept(
    sql,
    group,
    acked.map((r) => r.msg_offset),
  );
  sql.exec("UPDATE groups SET acked = acked + ? WHERE name = ?", acked.length, group);
  return acked.length;
}

export interface FailOutcome {
  /** Back in line for another hand-out. */
  requeued: number;
  deadLettered: number;
  discarded: number;
}

/** Gives leased messages back: in line again after `delayMs`, or out after `maxDeliveries`. */
export function nackOffsets(
  sql: SqlStorage,
  record: StationRecord,
  group: GroupRow,
  offsets: readonly number[],
  delayMs: number,
  now: number,
  epoch: number | null = null,
): FailOutcome {
  const leased = sql
    .exec<{ msg_offset: number; deliveries: number }>(
      `SELECT msg_offset, deliveries FROM deliveries WHERE ${SETTLEABLE} AND consumer IS NOT NULL`,
      group.name,
      JSON.stringify(offsets),
      epoch,
      epoch,
    )
    .toArray()
    .map((r) => ({ offset: r.msg_offset, deliveries: r.deliveries }));
  return failDeliveries(sql, group, settingsOf(group, record.config), leased, now + delayMs, now);
}

/** Most expired leases one run handles; more waiting makes the next run due at once. */
export const MAX_EXPIRED_PER_RUN = 5000;

/** Leases that ran out count as failed deliveries. Returns how many ended (0: nothing due). */
export function expireLeases(sql: SqlStorage, record: StationRecord, now: number): number {
  const expired = sql
    .exec<{ group_name: string; msg_offset: number; deliveries: number }>(
      "SELECT group_name, msg_offset, deliveries FROM deliveries WHERE lease_until <= ? ORDER BY lease_until LIMIT ?",
      now,
      MAX_EXPIRED_PER_RUN,
    )
    .toArray();
  const byGroup = new Map<string, Delivery[]>();
  for (const row of expired) {
    const list = byGroup.get(row.group_name) ?? [];
    list.push({ offset: row.msg_offset, deliveries: row.deliveries });
    byGroup.set(row.group_name, list);
  }
  for (const [name, deliveries] of byGroup) {
    const group = loadGroup(sql, name);
    if (!group) {
      sql.exec("DELETE FROM deliveries WHERE group_name = ?", name); // orphans of a deleted group
      continue;
    }
    failDeliveries(sql, group, settingsOf(group, record.config), deliveries, now, now);
  }
  return expired.length;
}

export function hasExpiredLeases(sql: SqlStorage, now: number): boolean {
  return sql.exec("SELECT 1 FROM deliveries WHERE lease_until <= ? LIMIT 1", now).toArray().length > 0;
}

/** When a lease next runs out or a delayed message comes due, or null for neither. */
export function nextDeliveryDueAt(sql: SqlStorage, now: number): number | null {
  const lease = sql.exec<{ at: number | null }>("SELECT min(lease_until) AS at FROM deliveries WHERE lease_until IS NOT NULL").one().at;
  const delayed = sql
    .exec<{ at: number | null }>("SELECT min(available_at) AS at FROM deliveries WHERE consumer IS NULL AND available_at > ?", now)
    .one().at;
  if (lease === null) return delayed;
  if (delayed === null) return lease;
  return Math.min(lease, delayed);
}

/**
 * Failed deliveries: those handed out `maxDeliveries` times go to the DLS (reason
 * `max_deliveries`, or are dropped and counted if the station says so); the rest wait in
 * line until `availableAt`.
 */
export function failDeliveries(
  sql: SqlStorage,
  group: GroupRow,
  settings: GroupSettings,
  failed: readonly Delivery[],
  availableAt: number,
  now: number,
): FailOutcome {
  const outcome: FailOutcome = { requeued: 0, deadLettered: 0, discarded: 0 };
  if (failed.length === 0) return outcome;
  const exhausted = failed.filter((d) => d.deliveries >= settings.maxDeliveries);
  const again = failed.filter((d) => d.deliveries < settings.maxDeliveries);
  if (again.length > 0) {
    sql.exec(
      `UPDATE deliveries SET consumer = NULL, lease_until = NULL, available_at = ?
       WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))`,
      availableAt,
      group.name,
      JSON.stringify(again.map((d) => d.offset)),
    );
    outcome.requeued = again.length;
  }
  if (exhausted.length > 0) {
    const offsets = exhausted.map((d) => d.offset);
    if (settings.deadLetterOnMax) {
      const rows = readOwedMessages(sql, group.name, offsets);
      for (const delivery of exhausted) {
        const row = rows.get(delivery.offset);
        if (!row) continue; // trimmed meanwhile and not kept: nothing left to file
        addDeadLetter(
          sql,
          { offset: delivery.offset, group: group.name, reason: DeadLetterReason.MaxDeliveries, deliveries: delivery.deliveries, message: contentOfRow(row) },
          now,
        );
        outcome.deadLettered += 1;
      }
    }
    outcome.discarded = exhausted.length - outcome.deadLettered;
    const list = JSON.stringify(offsets);
    sql.exec("DELETE FROM deliveries WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))", group.name, list);
    forgetKept(sql, group.name, offsets);
    sql.exec(
      "UPDATE groups SET dead_lettered = dead_lettered + ?, discarded = discarded + ? WHERE name = ?",
      outcome.deadLettered,
      outcome.discarded,
      group.name,
    );
  }
  return outcome;
}


/**
 * Puts a message back in its group's line, durably, whether or not a consumer is connected.
 * A message retention already trimmed from the log is kept for the group as a copy.
 */
export function requeueMessage(
  sql: SqlStorage,
  record: StationRecord,
  groupName: string,
  offset: number,
  content: StoredMessage,
  now: number,
): Result<null> {
  const group = loadGroup(sql, groupName);
  if (!group) return fail(ErrorCode.GroupNotFound, `Group ${groupName} no longer exists`);
  if (offset >= group.next_offset) return ok(null); // not handed out yet: it comes anyway
  sql.exec(
    `INSERT INTO deliveries (group_name, msg_offset, consumer, lease_until, deliveries, available_at)
     VALUES (?, ?, NULL, NULL, 0, ?) ON CONFLICT (group_name, msg_offset) DO NOTHING`,
    groupName,
    offset,
    now,
  );
  if (offset < record.firstOffset) keepMessage(sql, groupName, offset, content);
  return ok(null);
}
