// Per-producer state: the last seq stored, and the offsets of seqs stored before (to answer
// a resent batch with its original offsets). A producer's row is never pruned: forgetting it
// would let a resend be stored twice.

export function lastSeq(sql: SqlStorage, producer: string): number {
  const row = sql.exec<{ last_seq: number }>("SELECT last_seq FROM producers WHERE producer = ?", producer).toArray()[0];
  return row?.last_seq ?? 0;
}

export function recordLastSeq(sql: SqlStorage, producer: string, seq: number, now: number): void {
  sql.exec(
    `INSERT INTO producers (producer, last_seq, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (producer) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
    producer,
    seq,
    now,
  );
}

/** Offsets of seqs `from..to` of a producer still in the log (trimmed ones are absent). */
export function offsetsOfSeqs(sql: SqlStorage, producer: string, from: number, to: number): Map<number, number> {
  const rows = sql
    .exec<{ seq: number; msg_offset: number }>(
      "SELECT seq, msg_offset FROM messages WHERE producer = ? AND seq BETWEEN ? AND ?",
      producer,
      from,
      to,
    )
    .toArray();
  return new Map(rows.map((r) => [r.seq, r.msg_offset]));
}
