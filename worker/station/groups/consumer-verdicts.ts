// What a consumer may decide about messages it leased besides ack and nack: keep working on
// them (extend the lease by the group's ackTimeoutMs) or give up on them at once (to the DLS,
// reason `rejected`, no further deliveries). Runs inside the caller's transaction.
import { DeadLetterReason } from "../../../shared/dead-letters";
import { addDeadLetter, contentOfRow } from "../dead-letters";
import type { StationRecord } from "../log/record";
import { type GroupRow, settingsOf } from "./group-state";
import { forgetKept, readOwedMessages } from "./kept-messages";

/**
 * Extends the leases `consumer` holds on `offsets` to `now + ackTimeoutMs`. A lease that ran
 * out (even if the alarm has not settled it yet), or that another consumer holds, is left
 * alone: the message may be on its way to someone else, and extending it would hide that.
 * With `epoch` (what the messages carried), a lease from before a seek is left alone too.
 */
export function extendLeases(
  sql: SqlStorage,
  record: StationRecord,
  group: GroupRow,
  consumer: string,
  offsets: readonly number[],
  now: number,
  epoch: number | null = null,
): { extended: number; leaseUntil: number } {
  const leaseUntil = now + settingsOf(group, record.config).ackTimeoutMs;
  const extended = sql
    .exec(
      `UPDATE deliveries SET lease_until = ?
       WHERE group_name = ? AND consumer = ? AND lease_until > ? AND msg_offset IN (SELECT value FROM json_each(?))
         AND (? IS NULL OR epoch = ?)
       RETURNING msg_offset`,
      leaseUntil,
      group.name,
      consumer,
      now,
      JSON.stringify(offsets),
      epoch,
      epoch,
    )
    .toArray().length;
  return { extended, leaseUntil: extended > 0 ? leaseUntil : 0 };
}

/**
 * Files leased messages in the DLS with the consumer's reason and ends their deliveries. An
 * offset not leased now (acked, nacked, or its lease settled) is ignored, so a repeated
 * request files nothing twice. A message retention trimmed and no copy kept is only counted.
 * With `epoch`, a lease from before a seek is ignored even once its message went out again.
 */
export function deadLetterLeased(
  sql: SqlStorage,
  group: GroupRow,
  offsets: readonly number[],
  reason: string,
  now: number,
  epoch: number | null = null,
): { deadLettered: number } {
  const leased = sql
    .exec<{ msg_offset: number; deliveries: number; consumer: string }>(
      `SELECT msg_offset, deliveries, consumer FROM deliveries
       WHERE group_name = ? AND consumer IS NOT NULL AND msg_offset IN (SELECT value FROM json_each(?))
         AND (? IS NULL OR epoch = ?) ORDER BY msg_offset`,
      group.name,
      JSON.stringify(offsets),
      epoch,
      epoch,
    )
    .toArray();
  if (leased.length === 0) return { deadLettered: 0 };
  const taken = leased.map((d) => d.msg_offset);
  const rows = readOwedMessages(sql, group.name, taken);
  let filed = 0;
  for (const delivery of leased) {
    const row = rows.get(delivery.msg_offset);
    if (!row) continue; // trimmed and not kept: nothing left to file
    addDeadLetter(
      sql,
      {
        offset: delivery.msg_offset,
        group: group.name,
        reason: DeadLetterReason.Rejected,
        deliveries: delivery.deliveries,
        message: contentOfRow(row),
        detail: { reason, consumer: delivery.consumer },
      },
      now,
    );
    filed += 1;
  }
  const list = JSON.stringify(taken);
  sql.exec("DELETE FROM deliveries WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))", group.name, list);
  forgetKept(sql, group.name, taken);
  sql.exec(
    "UPDATE groups SET dead_lettered = dead_lettered + ?, discarded = discarded + ? WHERE name = ?",
    filed,
    taken.length - filed,
    group.name,
  );
  return { deadLettered: taken.length };
}
