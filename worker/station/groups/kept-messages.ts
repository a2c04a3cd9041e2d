// Messages a group is owed after retention trimmed them from the log: a resent dead letter
// whose offset is below the log's head is copied here, so the group can still hand it out.
// Rare by design; the hot path only pays for it when a message is missing from the log.
import type { StoredMessage } from "../dead-letters";
import { MESSAGE_COLUMNS, type MessageRow } from "../log/rows";

/** Rows of `offsets` the group may hand out: from the log, else from its kept copies. */
export function readOwedMessages(sql: SqlStorage, group: string, offsets: readonly number[]): Map<number, MessageRow> {
  const list = JSON.stringify(offsets);
  const rows = sql
    .exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset IN (SELECT value FROM json_each(?))`, list)
    .toArray();
  const found = new Map(rows.map((row) => [row.msg_offset, row]));
  if (found.size < offsets.length) {
    const kept = sql
      .exec<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM kept_messages WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))`,
        group,
        list,
      )
      .toArray();
    for (const row of kept) if (!found.has(row.msg_offset)) found.set(row.msg_offset, row);
  }
  return found;
}

/** Keeps a copy of a message for a group (idempotent). */
export function keepMessage(sql: SqlStorage, group: string, offset: number, content: StoredMessage): void {
  sql.exec(
    `INSERT INTO kept_messages (group_name, msg_offset, producer, seq, msg_id, msg_key, headers, body, produced_at, bytes)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_name, msg_offset) DO NOTHING`,
    group,
    offset,
    content.producer,
    content.seq,
    content.id,
    content.key,
    content.headers,
    content.body,
    content.producedAt,
    content.bytes,
  );
}

/** Drops the copies of `offsets` once the group is done with them (acked or dead again). */
export function forgetKept(sql: SqlStorage, group: string, offsets: readonly number[]): void {
  sql.exec("DELETE FROM kept_messages WHERE group_name = ? AND msg_offset IN (SELECT value FROM json_each(?))", group, JSON.stringify(offsets));
}

export function countKept(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM kept_messages").one().n;
}
