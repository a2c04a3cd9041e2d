// The current state of a doc station as one merged update: snapshot + the updates above it.
// The last merge is kept in memory (per station record) so a catch-up merges only what came
// since; offsets are never reused, so "everything up to offset N" stays true until a restart.
import * as Y from "yjs";
import { readSnapshot, readSnapshotMeta } from "./snapshot";
import { updatesOf } from "./updates";
import type { StationRecord } from "../log/record";

export interface DocStateValue {
  /** The whole document, or only what the asked state vector lacks. */
  update: Uint8Array;
  stateVector: Uint8Array;
  /** Every update at or below it is in `update`. */
  offset: number;
  snapshotOffset: number;
  /** Raw updates merged on top of the snapshot (or of the cached merge) for this answer. */
  tailUpdates: number;
}

interface MergedState {
  offset: number;
  update: Uint8Array;
  /** Computed on first use: reading it from the update walks every struct. */
  stateVector?: Uint8Array;
}

/** Keyed by the record object: a re-created or reloaded station starts with no cache. */
const cache = new WeakMap<StationRecord, MergedState>();

/** Reads the document, or the part of it `stateVector` lacks (`Y.diffUpdate`). */
export function readDocState(sql: SqlStorage, record: StationRecord, stateVector: Uint8Array | null): DocStateValue {
  const snapshot = readSnapshotMeta(sql);
  const cached = cache.get(record);
  const base: MergedState =
    cached && cached.offset >= snapshot.coversOffset
      ? cached
      : { offset: snapshot.coversOffset, update: readSnapshot(sql, snapshot) ?? Y.mergeUpdates([]) };
  const rows = sql.exec<{ body: string }>("SELECT body FROM messages WHERE msg_offset > ? ORDER BY msg_offset", base.offset).toArray();
  const tail = updatesOf(rows);
  const merged: MergedState = tail.length > 0 ? { offset: record.lastOffset, update: Y.mergeUpdates([base.update, ...tail]) } : { ...base, offset: record.lastOffset };
  merged.stateVector ??= Y.encodeStateVectorFromUpdate(merged.update);
  cache.set(record, merged);
  return {
    update: stateVector ? Y.diffUpdate(merged.update, stateVector) : merged.update,
    stateVector: merged.stateVector,
    offset: merged.offset,
    snapshotOffset: snapshot.coversOffset,
    tailUpdates: tail.length,
  };
}

/** The last merged state of this station (if any): every update up to `offset`, merged. */
export function cachedState(record: StationRecord): { offset: number; update: Uint8Array } | null {
  return cache.get(record) ?? null;
}

/** Remembers a merged state computed elsewhere (compaction), so the next read starts from it. */
export function rememberState(record: StationRecord, offset: number, update: Uint8Array): void {
  const known = cache.get(record);
  if (!known || known.offset < offset) cache.set(record, { offset, update });
}
