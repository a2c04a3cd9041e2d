// Handing messages out: a lease gives a consumer a message for `ackTimeoutMs`; nobody else
// gets it until the lease ends. Redeliveries due now go first (they have the lower offsets),
// then new messages from the group's cursor. Set-based: a few statements per batch, whatever
// its size. Runs inside the caller's transaction.
import { MESSAGE_COLUMNS, type MessageRow } from "../rows";
import type { StationRecord } from "../station-record";
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
  const messages = leaseRedeliveries(sql, group.name, consumer, leaseUntil, budget, now);
  const fresh = budget.count > 0 && budget.bytes > 0 ? leaseNew(sql, record, group, consumer, leaseUntil, budget, now) : null;
  const total = messages.length + (fresh?.messages.length ?? 0);
  if (total > 0) {
    const nextOffset = fresh && fresh.messages.length > 0 ? fresh.nextOffset : group.next_offset;
    const skipped = fresh && fresh.messages.length > 0 ? fresh.skipped : 0;
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

/** Messages handed out before and due again (nacked, or their lease ran out). */
function leaseRedeliveries(sql: SqlStorage, group: string, consumer: string, leaseUntil: number, budget: Budget, now: number): string[] {
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
    messages.push(messageJson(row, delivery.deliveries + 1));
  }
  if (taken.length > 0) {
    sql.exec(
      `UPDATE deliveries SET consumer = ?, lease_until = ?, deliveries = deliveries + 1
       WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))`,
      consumer,
      leaseUntil,
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

/** Messages never handed out to the group, from its cursor on; the cursor's new place. */
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
  const rows = sql
    .exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset >= ? ORDER BY msg_offset LIMIT ?`, from, budget.count)
    .toArray();
  const messages: string[] = [];
  let last = 0;
  for (const row of rows) {
    if (!spend(budget, row, messages.length)) break;
    messages.push(messageJson(row, 1));
    last = row.msg_offset;
  }
  if (messages.length === 0) return null;
  // The log is dense from its head, so the range holds exactly the rows read above.
  sql.exec(
    `INSERT INTO deliveries (group_name, msg_offset, consumer, lease_until, deliveries, available_at)
     SELECT ?, msg_offset, ?, ?, 1, ? FROM messages WHERE msg_offset BETWEEN ? AND ?
     ON CONFLICT (group_name, msg_offset) DO NOTHING`,
    group.name,
    consumer,
    leaseUntil,
    now,
    rows[0]!.msg_offset,
    last,
  );
  // Offsets between the cursor and the log's head were trimmed before the group got them.
  return { messages, nextOffset: last + 1, skipped: Math.max(0, from - group.next_offset) };
}

/** Takes one message out of the budget; the first message of a batch always fits. */
function spend(budget: Budget, row: MessageRow, takenSoFar: number): boolean {
  if (budget.count <= 0) return false;
  if (takenSoFar > 0 && row.bytes > budget.bytes) return false;
  budget.count -= 1;
  budget.bytes -= row.bytes;
  return true;
}
