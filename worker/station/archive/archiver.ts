// Archiving retention (`retention.archive: true`): what retention trims is first written to R2
// as segments, and only once a segment's put has returned are its rows deleted from the log, in
// one transaction with the index row that marks it done. A crash in between leaves the rows and
// a pending index row, and the next run writes the same range under the same key again.
import { ok, type Result } from "../../../shared/errors";
import { trimBelow } from "../log/messages";
import { retentionTarget } from "../log/retention";
import { MESSAGE_COLUMNS, type MessageRow } from "../log/rows";
import type { StationRecord } from "../log/record";
import { dropPending, markDone, pendingSegment, recordPending, type Segment } from "./index";
import { encodeSegment, SEGMENT_MAX_BYTES, SEGMENT_MAX_MESSAGES, segmentKey, segmentPrefix } from "./segments";

export interface ArchiverDeps {
  sql: SqlStorage;
  bucket: R2Bucket | undefined;
  record: () => StationRecord | null;
  transact: <T>(work: (record: StationRecord) => Result<T>) => Result<T>;
}

export class Archiver {
  /** The run in progress: runs never overlap (each awaits R2 between its transactions). */
  private running: Promise<number> | null = null;
  /** Test hook (workerd tests only): runs between a segment's put and the delete; may throw to cut the run short there. */
  afterPut: ((segment: Segment) => void) | null = null;

  constructor(private readonly deps: ArchiverDeps) {}

  /** False when the station archives but the worker has no bucket: then retention waits, deleting nothing. */
  canTrim(record: StationRecord): boolean {
    return !record.config.retention.archive || this.deps.bucket !== undefined;
  }

  /** Archives, then trims, what retention asks for now; returns how many messages left the object. */
  run(now: number): Promise<number> {
    this.running ??= this.archive(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Deletes every segment of a station being deleted (its index goes with the object's storage). */
  async forget(station: string, createdAt: number): Promise<void> {
    const bucket = this.deps.bucket;
    if (!bucket) return;
    const prefix = segmentPrefix(station, createdAt);
    for (;;) {
      const listed = await bucket.list({ prefix, limit: 1000 });
      if (listed.objects.length === 0) return;
      await bucket.delete(listed.objects.map((object) => object.key));
      if (!listed.truncated) return;
    }
  }

  private async archive(now: number): Promise<number> {
    const { sql, bucket } = this.deps;
    const start = this.deps.record();
    if (!bucket || !start || !start.config.retention.archive) return 0;
    const target = retentionTarget(sql, start, now);
    let moved = 0;
    for (;;) {
      const record = this.deps.record();
      if (!record || !record.config.retention.archive) return moved;
      let segment = pendingSegment(sql);
      // A pending range is void when its rows left by another way (archive switched off
      // meanwhile), or when retention now keeps part of it (its limits were widened).
      if (segment && (segment.first !== record.firstOffset || segment.last >= target)) {
        dropPending(sql, segment.first);
        segment = null;
      }
      if (!segment) {
        if (target <= record.firstOffset) return moved;
        segment = planSegment(sql, record, target);
        if (!segment) return moved;
        recordPending(sql, segment);
      }
      const rows = sql
        .exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset BETWEEN ? AND ? ORDER BY msg_offset`, segment.first, segment.last)
        .toArray();
      if (rows.length !== segment.messages) throw new Error(`archive: segment ${segment.key} expected ${segment.messages} rows, found ${rows.length}`);
      await bucket.put(segment.key, encodeSegment(rows), {
        httpMetadata: { contentType: "application/x-ndjson" },
        customMetadata: { first: String(segment.first), last: String(segment.last), messages: String(segment.messages) },
      });
      this.afterPut?.(segment);
      const done = segment;
      const trimmed = this.deps.transact((current) => {
        const n = trimBelow(sql, current, done.last + 1);
        markDone(sql, done.first);
        current.save(sql);
        return ok(n);
      });
      if (trimmed.ok) moved += trimmed.value;
    }
  }
}

/** The next segment from the log's head towards `target`: bounded by count and bytes, at least one message. */
function planSegment(sql: SqlStorage, record: StationRecord, target: number): Segment | null {
  const rows = sql
    .exec<{ msg_offset: number; bytes: number }>(
      "SELECT msg_offset, bytes FROM messages WHERE msg_offset >= ? AND msg_offset < ? ORDER BY msg_offset LIMIT ?",
      record.firstOffset,
      target,
      SEGMENT_MAX_MESSAGES,
    )
    .toArray();
  if (rows.length === 0) return null;
  let bytes = 0;
  let count = 0;
  for (const row of rows) {
    if (count > 0 && bytes + row.bytes > SEGMENT_MAX_BYTES) break;
    bytes += row.bytes;
    count += 1;
  }
  const first = rows[0]!.msg_offset;
  const last = rows[count - 1]!.msg_offset;
  return { first, last, key: segmentKey(record.name, record.createdAt, first, last), messages: count, bytes };
}
