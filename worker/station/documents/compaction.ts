// Compaction of a doc station: merges the updates above the snapshot into a new snapshot
// (`Y.mergeUpdates`, no Y.Doc), then trims the updates it covers. All synchronous, inside one
// storage transaction: nothing can arrive between the read and the write, and an update is
// trimmed only in the transaction that makes the snapshot holding it durable.
import * as Y from "yjs";
import { StationKind } from "../../../shared/config";
import { DEFAULT_DOC_COMPACT_AFTER_BYTES, DEFAULT_DOC_COMPACT_AFTER_UPDATES } from "../../../shared/docs";
import { type Result, ok } from "../../../shared/errors";
import { readSnapshot, readSnapshotMeta, type SnapshotMeta, writeSnapshot } from "./snapshot";
import { cachedState, rememberState } from "./state";
import { updatesOf } from "./updates";
import { trimBelow } from "../log/messages";
import type { StationRecord } from "../log/record";

/** Bounds of one compaction run; a longer tail is merged over several runs (the next is due at once). */
const MAX_UPDATES_PER_RUN = 20_000;
const MAX_BYTES_PER_RUN = 32 * 1024 * 1024;

export interface CompactionOutcome {
  /** Updates merged into the snapshot by this run. */
  merged: number;
  /** Messages trimmed from the log by this run. */
  trimmed: number;
  snapshot: SnapshotMeta;
}

export function isDocStation(record: StationRecord): boolean {
  return record.config.kind === StationKind.Doc;
}

/**
 * When compaction is next due, or null: once `compactAfterUpdates` updates or
 * `compactAfterBytes` bytes wait above the snapshot. For a doc station the retention limits
 * (count, bytes, age) are met by compacting early, never by dropping unmerged updates.
 */
export function compactionDueAt(sql: SqlStorage, record: StationRecord, now: number): number | null {
  if (!isDocStation(record)) return null;
  const coversOffset = readSnapshotMeta(sql).coversOffset;
  const pending = record.lastOffset - Math.max(coversOffset, record.firstOffset - 1);
  if (pending <= 0) return null;
  const { maxUpdates, maxBytes, maxAgeMs } = thresholds(record);
  if (pending >= maxUpdates) return now;
  const bytes = sql
    .exec<{ bytes: number | null }>(
      "SELECT sum(bytes) AS bytes FROM (SELECT bytes FROM messages WHERE msg_offset > ? ORDER BY msg_offset LIMIT ?)",
      coversOffset,
      maxUpdates,
    )
    .one().bytes ?? 0;
  if (bytes >= maxBytes) return now;
  if (maxAgeMs === undefined) return null;
  const oldest = sql
    .exec<{ produced_at: number }>("SELECT produced_at FROM messages WHERE msg_offset > ? ORDER BY msg_offset LIMIT 1", coversOffset)
    .toArray()[0];
  return oldest ? oldest.produced_at + maxAgeMs : null;
}

/**
 * Merges the updates above the snapshot (up to the per-run bounds) into a new snapshot and
 * trims what it covers, as retention would: readers of the log that are behind skip them. With
 * `retention.untilAcked` the trim is left to the groups (once every group acked), and no trim
 * ever goes above the snapshot (`trimCeiling` in log.ts). Call inside the station's transaction.
 */
export function compactDoc(sql: SqlStorage, record: StationRecord, now: number): Result<CompactionOutcome> {
  let snapshot = readSnapshotMeta(sql);
  // A read of the document merged it already: that state becomes the snapshot, no merge needed.
  const cached = cachedState(record);
  if (cached && cached.offset > snapshot.coversOffset) {
    const merged = cached.offset - snapshot.coversOffset;
    snapshot = writeSnapshot(sql, cached.update, cached.offset, now);
    return ok({ merged, trimmed: trimCovered(sql, record, snapshot), snapshot });
  }
  const rows: { msg_offset: number; body: string }[] = [];
  let bytes = 0;
  const cursor = sql.exec<{ msg_offset: number; body: string; bytes: number }>(
    "SELECT msg_offset, body, bytes FROM messages WHERE msg_offset > ? ORDER BY msg_offset LIMIT ?",
    snapshot.coversOffset,
    MAX_UPDATES_PER_RUN,
  );
  for (const row of cursor) {
    if (rows.length > 0 && bytes + row.bytes > MAX_BYTES_PER_RUN) break;
    rows.push(row);
    bytes += row.bytes;
  }
  const last = rows.at(-1);
  if (last) {
    assertDense(rows, snapshot.coversOffset, record);
    const base = readSnapshot(sql, snapshot);
    const updates = updatesOf(rows);
    const merged = Y.mergeUpdates(base ? [base, ...updates] : updates);
    snapshot = writeSnapshot(sql, merged, last.msg_offset, now);
    rememberState(record, last.msg_offset, merged);
  }
  return ok({ merged: rows.length, trimmed: trimCovered(sql, record, snapshot), snapshot });
}

/** Trims what the snapshot holds, as retention would; with `untilAcked` the groups do it. */
function trimCovered(sql: SqlStorage, record: StationRecord, snapshot: SnapshotMeta): number {
  const trimmed = record.config.retention.untilAcked ? 0 : trimBelow(sql, record, snapshot.coversOffset + 1);
  record.save(sql);
  return trimmed;
}

/** A failed merge (a bug, or an update that slipped past the produce check) waits this long before the next try. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * The alarm task's side of compaction: runs `compactDoc` in the station's transaction and,
 * when it throws, backs off instead of firing the alarm again at once (alarms are at-least-once).
 */
export class DocCompactor {
  private retryAt = 0;

  constructor(private readonly sql: SqlStorage) {}

  dueAt(record: StationRecord | null, now: number): number | null {
    const due = record ? compactionDueAt(this.sql, record, now) : null;
    return due === null ? null : Math.max(due, this.retryAt);
  }

  /** `transact` is the station's. */
  run(now: number, transact: (work: (record: StationRecord) => Result<CompactionOutcome>) => unknown): void {
    try {
      transact((record) => compactDoc(this.sql, record, now));
    } catch (error) {
      this.retryAt = now + RETRY_AFTER_FAILURE_MS;
      console.error("doc compaction failed; retrying later", error);
    }
  }
}

function thresholds(record: StationRecord): { maxUpdates: number; maxBytes: number; maxAgeMs: number | undefined } {
  // Configs stored before `doc` existed have no such field: the defaults apply.
  const doc = record.config.doc ?? {};
  const { retention } = record.config;
  return {
    maxUpdates: Math.min(doc.compactAfterUpdates ?? DEFAULT_DOC_COMPACT_AFTER_UPDATES, retention.maxMessages ?? Number.POSITIVE_INFINITY),
    maxBytes: Math.min(doc.compactAfterBytes ?? DEFAULT_DOC_COMPACT_AFTER_BYTES, retention.maxBytes ?? Number.POSITIVE_INFINITY),
    maxAgeMs: retention.maxAgeMs,
  };
}

/** Offsets above the snapshot are never trimmed, so the rows read must follow on with no gap. */
function assertDense(rows: { msg_offset: number }[], coversOffset: number, record: StationRecord): void {
  let expected = Math.max(coversOffset, record.firstOffset - 1) + 1;
  for (const row of rows) {
    if (row.msg_offset !== expected) throw new Error(`doc update ${expected} is missing above the snapshot (found ${row.msg_offset})`);
    expected += 1;
  }
}
