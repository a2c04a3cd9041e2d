// The stored snapshot of a doc station: one merged yjs update and the offset it covers, split
// into chunks under SQLite's 2 MB row limit. Replaced whole inside the caller's transaction,
// so a reader sees the old snapshot or the new one, never a mix.
import { DOC_SNAPSHOT_CHUNK_BYTES } from "../../../shared/docs";

export interface SnapshotMeta {
  /** Every update at or below this offset is in the snapshot; 0 when there is none. */
  coversOffset: number;
  bytes: number;
  chunks: number;
  compactions: number;
  compactedAt: number;
}

interface SnapshotRow {
  covers_offset: number;
  bytes: number;
  chunks: number;
  compactions: number;
  compacted_at: number;
  [column: string]: SqlStorageValue;
}

const NO_SNAPSHOT: SnapshotMeta = { coversOffset: 0, bytes: 0, chunks: 0, compactions: 0, compactedAt: 0 };

export function readSnapshotMeta(sql: SqlStorage): SnapshotMeta {
  const row = sql.exec<SnapshotRow>("SELECT covers_offset, bytes, chunks, compactions, compacted_at FROM doc_snapshot WHERE id = 1").toArray()[0];
  if (!row) return NO_SNAPSHOT;
  return { coversOffset: row.covers_offset, bytes: row.bytes, chunks: row.chunks, compactions: row.compactions, compactedAt: row.compacted_at };
}

/** The snapshot's bytes, or null when there is none. Asserts every chunk is there. */
export function readSnapshot(sql: SqlStorage, meta: SnapshotMeta = readSnapshotMeta(sql)): Uint8Array | null {
  if (meta.chunks === 0) return null;
  const out = new Uint8Array(meta.bytes);
  let at = 0;
  let expected = 0;
  for (const row of sql.exec<{ chunk: number; data: ArrayBuffer }>("SELECT chunk, data FROM doc_snapshot_chunks ORDER BY chunk")) {
    if (row.chunk !== expected) throw new Error(`doc snapshot chunk ${expected} missing (found ${row.chunk})`);
    const data = new Uint8Array(row.data);
    out.set(data, at);
    at += data.byteLength;
    expected += 1;
  }
  if (expected !== meta.chunks || at !== meta.bytes) {
    throw new Error(`doc snapshot holds ${expected} chunks / ${at} bytes, expected ${meta.chunks} / ${meta.bytes}`);
  }
  return out;
}

/** Replaces the snapshot; call inside the transaction that trims what it covers. */
export function writeSnapshot(sql: SqlStorage, update: Uint8Array, coversOffset: number, now: number): SnapshotMeta {
  const previous = readSnapshotMeta(sql);
  if (coversOffset < previous.coversOffset) {
    throw new Error(`doc snapshot would go back from offset ${previous.coversOffset} to ${coversOffset}`);
  }
  sql.exec("DELETE FROM doc_snapshot_chunks");
  let chunks = 0;
  for (let at = 0; at < update.byteLength; at += DOC_SNAPSHOT_CHUNK_BYTES) {
    const part = update.subarray(at, Math.min(at + DOC_SNAPSHOT_CHUNK_BYTES, update.byteLength));
    // A copy: SQLite binds the whole underlying buffer of a view.
    sql.exec("INSERT INTO doc_snapshot_chunks (chunk, data) VALUES (?, ?)", chunks, part.slice().buffer);
    chunks += 1;
  }
  const meta: SnapshotMeta = {
    coversOffset,
    bytes: update.byteLength,
    chunks,
    compactions: previous.compactions + 1,
    compactedAt: now,
  };
  sql.exec(
    `INSERT INTO doc_snapshot (id, covers_offset, bytes, chunks, compactions, compacted_at) VALUES (1, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET covers_offset = excluded.covers_offset, bytes = excluded.bytes, chunks = excluded.chunks,
       compactions = excluded.compactions, compacted_at = excluded.compacted_at`,
    meta.coversOffset,
    meta.bytes,
    meta.chunks,
    meta.compactions,
    meta.compactedAt,
  );
  return meta;
}
