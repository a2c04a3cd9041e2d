// Handing messages out: a lease gives a consumer a message for `ackTimeoutMs`; nobody else
// gets it until the lease ends. Redeliveries due now go first (they have the lower offsets),
// then new messages from the group's cursor. A delayed message (`delayMs`) not visible yet is
// passed over: parked in line (never handed out, due at its visible time) while the cursor goes
// on, so it holds no later message back. Set-based: a few statements per batch, whatever its
// size. Runs inside the caller's transaction.
import { MESSAGE_COLUMNS, type MessageRow } from "../log/rows";
import type { StationRecord } from "../log/record";
import { type GroupRow, settingsOf } from "./group-state";
import { readOwedMessages } from "./kept-messages";
import { messageJson } from "./message-json";

export interface LeasedBatch {
  /** Wire JSON of each leased message, in offset order. */
  messages: string[];
  /** When the leases end (the alarm must come by then). */
  leaseUntil: number;
}

/** Leases up to `max` messages (and about `maxBytes` stored bytes, at least one) to `consumer`. */
export function leaseMessages(
  sql: SqlStorage,
  record: StationRecord,
  group: GroupRow,
  consumer: string,
  max: number,
  maxBytes: number,
  now: number,
): LeasedBatch {
  const leaseUntil = now + settingsOf(group, record.config).ackTimeoutMs;
  const budget = { count: max, bytes: maxBytes };
  const messages = leaseRedeliveries(sql, record.partition, group, consumer, leaseUntil, budget, now);
  const fresh = budget.count > 0 && budget.bytes > 0 ? leaseNew(sql, record, group, consumer, leaseUntil, budget, now) : null;
  const total = messages.length + (fresh?.messages.length ?? 0);
  if (total > 0 || fresh !== null) {
    const nextOffset = fresh ? fresh.nextOffset : group.next_offset;
    const skipped = fresh ? fresh.skipped : 0;
    sql.exec(
      "UPDATE groups SET next_offset = ?, skipped = skipped + ?, delivered = delivered + ?, updated_at = ? WHERE name = ?",
      nextOffset,
      skipped,
      total,
      now,
      group.name,
    );
    group.next_offset = nextOffset;
  }
  return { messages: fresh && fresh.messages.length > 0 ? messages.concat(fresh.messages) : messages, leaseUntil };
}

interface Budget {
  count: number;
  bytes: number;
}

/** Messages handed out before and due again (nacked, or their lease ran out), and delayed ones whose time came. */
function leaseRedeliveries(sql: SqlStorage, partition: number, groupRow: GroupRow, consumer: string, leaseUntil: number, budget: Budget, now: number): string[] {
  const group = groupRow.name;
  const due = sql
    .exec<{ msg_offset: number; deliveries: number }>(
      `SELECT msg_offset, deliveries FROM deliveries
       WHERE group_name = ? AND consumer IS NULL AND available_at <= ? ORDER BY msg_offset LIMIT ?`,
      group,
      now,
      budget.count,
    )
    .toArray();
  if (due.length === 0) return [];
  const rows = readOwedMessages(
    sql,
    group,
    due.map((d) => d.msg_offset),
  );
  const taken: number[] = [];
  const gone: number[] = [];
  const messages: string[] = [];
  for (const delivery of due) {
    const row = rows.get(delivery.msg_offset);
    if (!row) {
      gone.push(delivery.msg_offset); // trimmed and not kept: nothing left to hand out
      continue;
    }
    if (!spend(budget, row, messages.length)) break;
    taken.push(delivery.msg_offset);
    messages.push(messageJson(row, partition, delivery.deliveries + 1, groupRow.epoch));
  }
  if (taken.length > 0) {
    sql.exec(
      `UPDATE deliveries SET consumer = ?, lease_until = ?, deliveries = deliveries + 1, epoch = ?
       WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))`,
      consumer,
      leaseUntil,
      groupRow.epoch,
      group,
      JSON.stringify(taken),
    );
  }
  if (gone.length > 0) {
    sql.exec("DELETE FROM deliveries WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))", group, JSON.stringify(gone));
    sql.exec("UPDATE groups SET skipped = skipped + ? WHERE name = ?", gone.length, group);
  }
  return messages;
}

/** Most delayed messages one hand-out passes over (parks); the cursor stops after them. */
export const MAX_PARKED_PER_LEASE = 1000;

/**
 * Messages never handed out to the group, from its cursor on, and the cursor's new place.
 * Delayed messages not visible yet are parked on the way (not handed out, not counted against
 * the budget, at most MAX_PARKED_PER_LEASE): null when the cursor did not move. Two reads: the
 * delayed offsets ahead of the cursor (a partial index holds only delayed messages), then the
 * visible messages, so a hand-out reads no more bodies than it hands out.
 */
function leaseNew(
  sql: SqlStorage,
  record: StationRecord,
  group: GroupRow,
  consumer: string,
  leaseUntil: number,
  budget: Budget,
  now: number,
): { messages: string[]; nextOffset: number; skipped: number } | null {
  const from = Math.max(group.next_offset, record.firstOffset);
  if (from >= record.nextOffset) return null;
  const delayed = sql
    .exec<{ msg_offset: number; visible_at: number }>(
      `SELECT msg_offset, visible_at FROM messages WHERE msg_offset >= ? AND visible_at IS NOT NULL AND visible_at > ?
       ORDER BY msg_offset LIMIT ?`,
      from,
      now,
      MAX_PARKED_PER_LEASE,
    )
    .toArray();
  // With the cap reached, this hand-out stops at the last delayed message it can park.
  const end = delayed.length === MAX_PARKED_PER_LEASE ? delayed.at(-1)!.msg_offset + 1 : record.nextOffset;
  const rows = sql
    .exec<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset >= ? AND msg_offset < ? AND (visible_at IS NULL OR visible_at <= ?)
       ORDER BY msg_offset LIMIT ?`,
      from,
      end,
      now,
      budget.count,
    )
    .toArray();
  const messages: string[] = [];
  const taken: number[] = [];
  for (const row of rows) {
    if (!spend(budget, row, messages.length)) break;
    messages.push(messageJson(row, record.partition, 1, group.epoch));
    taken.push(row.msg_offset);
  }
  // Every offset from the cursor to here is now taken or parked (the log is dense from its head).
  const exhausted = taken.length === rows.length && budget.count > 0;
  const nextOffset = exhausted ? end : taken.at(-1)! + 1;
  const parked = delayed.filter((d) => d.msg_offset < nextOffset);
  if (taken.length === 0 && parked.length === 0) return null;
  if (taken.length > 0) {
    sql.exec(
      `INSERT INTO deliveries (group_name, msg_offset, consumer, lease_until, deliveries, available_at, epoch)
       SELECT ?, value, ?, ?, 1, ?, ? FROM json_each(?) WHERE true
       ON CONFLICT (group_name, msg_offset) DO NOTHING`,
      group.name,
      consumer,
      leaseUntil,
      now,
      group.epoch,
      JSON.stringify(taken),
    );
  }
  // `WHERE true`: SQLite's parser needs it between an INSERT's SELECT and ON CONFLICT.
  // Parked: in line, never handed out (deliveries 0), due when visible; the alarm comes then.
  if (parked.length > 0) {
    sql.exec(
      `INSERT INTO deliveries (group_name, msg_offset, consumer, lease_until, deliveries, available_at, epoch)
       SELECT ?, value ->> 0, NULL, NULL, 0, value ->> 1, ? FROM json_each(?) WHERE true
       ON CONFLICT (group_name, msg_offset) DO NOTHING`,
      group.name,
      group.epoch,
      JSON.stringify(parked.map((d) => [d.msg_offset, d.visible_at])),
    );
  }
  // Offsets between the cursor and the log's head were trimmed before the group got them.
  return { messages, nextOffset, skipped: Math.max(0, from - group.next_offset) };
}

/** Takes one message out of the budget; the first message of a batch always fits. */
function spend(budget: Budget, row: MessageRow, takenSoFar: number): boolean {
  if (budget.count <= 0) return false;
  if (takenSoFar > 0 && row.bytes > budget.bytes) return false;
  budget.count -= 1;
  budget.bytes -= row.bytes;
  return true;
}
