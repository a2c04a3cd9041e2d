// Replay reads of the log (`GET …/messages?from=&limit=`), bounded by count and by bytes: the
// page is cut in SQL from offsets and sizes alone, and only the messages that fit are loaded.
// Offsets below the object's head come from the R2 archive (`retention.archive`), transparently.
import { firstArchivedOffset, segmentsFrom } from "../archive/index";
import type { ArchiveReader } from "../archive/reader";
import { MESSAGE_COLUMNS, type MessageRow } from "./rows";
import type { StationRecord } from "./record";

/**
 * Up to `limit` messages from `fromOffset` on, and at most `maxBytes` of their stored bytes
 * (body, headers, key) — but always the first one, whatever its size, so a reader never stalls
 * (`alwaysFirst: false` when the page already holds messages from the archive).
 * Offsets are dense from the log's head, so the page is the range up to the cut.
 */
export function readPage(sql: SqlStorage, fromOffset: number, limit: number, maxBytes: number, alwaysFirst = true): MessageRow[] {
  const last = sql
    .exec<{ last: number | null }>(
      `SELECT max(msg_offset) AS last FROM (
         SELECT msg_offset, row_number() OVER w AS n, sum(bytes) OVER w AS running
         FROM (SELECT msg_offset, bytes FROM messages WHERE msg_offset >= ? ORDER BY msg_offset LIMIT ?)
         WINDOW w AS (ORDER BY msg_offset ROWS UNBOUNDED PRECEDING))
       WHERE (n = 1 AND ?) OR running <= ?`,
      fromOffset,
      limit,
      alwaysFirst ? 1 : 0,
      maxBytes,
    )
    .one().last;
  if (last === null) return [];
  return sql.exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset BETWEEN ? AND ? ORDER BY msg_offset`, fromOffset, last).toArray();
}

export interface ReplayPage {
  rows: MessageRow[];
  nextOffset: number;
}

/**
 * A replay page from `fromOffset` (default: the lowest offset still readable, archived or held).
 * Archived offsets are read from their segments, then the page goes on into the object's log
 * when it has room. Offsets trimmed before archiving was on are skipped, as trims always were.
 * Throws ArchiveMissing when the index names a segment the bucket cannot give back.
 */
export async function readReplay(
  sql: SqlStorage,
  archive: ArchiveReader,
  currentRecord: () => StationRecord,
  fromOffset: number | undefined,
  limit: number,
  maxBytes: number,
): Promise<ReplayPage> {
  const head = currentRecord().firstOffset;
  const archivedFrom = head > 1 ? firstArchivedOffset(sql) : null;
  const lowest = archivedFrom !== null && archivedFrom < head ? archivedFrom : head;
  let next = Math.max(fromOffset ?? lowest, lowest);
  const rows: MessageRow[] = [];
  let bytes = 0;
  let full = false;
  if (next < head) {
    // At most as many segments as a full page can touch (each holds at least one message).
    for (const segment of segmentsFrom(sql, next, limit)) {
      if (segment.first > next) {
        if (rows.length > 0) break; // a gap (trimmed unarchived): the page stays dense, the next one jumps
        next = segment.first;
      }
      for (const row of await archive.rows(segment)) {
        if (row.msg_offset < next) continue;
        if (rows.length >= limit || (rows.length > 0 && bytes + row.bytes > maxBytes)) {
          full = true;
          break;
        }
        rows.push(row);
        bytes += row.bytes;
        next = row.msg_offset + 1;
      }
      if (full) break;
    }
  }
  if (!full && rows.length < limit) {
    // Re-read the head: retention may have archived more while R2 answered.
    const record = currentRecord();
    if (next < record.firstOffset && rows.length === 0) next = record.firstOffset;
    if (next >= record.firstOffset) {
      for (const row of readPage(sql, next, limit - rows.length, maxBytes - bytes, rows.length === 0)) {
        rows.push(row);
        next = row.msg_offset + 1;
      }
    }
  }
  const last = rows.at(-1);
  return { rows, nextOffset: last ? last.msg_offset + 1 : Math.min(next, currentRecord().nextOffset) };
}
