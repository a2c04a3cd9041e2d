// Replay reads of the log (`GET …/messages?from=&limit=`), bounded by count and by bytes: the
// page is cut in SQL from offsets and sizes alone, and only the messages that fit are loaded.
import { MESSAGE_COLUMNS, type MessageRow } from "./rows";

/**
 * Up to `limit` messages from `fromOffset` on, and at most `maxBytes` of their stored bytes
 * (body, headers, key) — but always the first one, whatever its size, so a reader never stalls.
 * Offsets are dense from the log's head, so the page is the range up to the cut.
 */
export function readPage(sql: SqlStorage, fromOffset: number, limit: number, maxBytes: number): MessageRow[] {
  const last = sql
    .exec<{ last: number | null }>(
      `SELECT max(msg_offset) AS last FROM (
         SELECT msg_offset, row_number() OVER w AS n, sum(bytes) OVER w AS running
         FROM (SELECT msg_offset, bytes FROM messages WHERE msg_offset >= ? ORDER BY msg_offset LIMIT ?)
         WINDOW w AS (ORDER BY msg_offset ROWS UNBOUNDED PRECEDING))
       WHERE n = 1 OR running <= ?`,
      fromOffset,
      limit,
      maxBytes,
    )
    .one().last;
  if (last === null) return [];
  return sql.exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset BETWEEN ? AND ? ORDER BY msg_offset`, fromOffset, last).toArray();
}
