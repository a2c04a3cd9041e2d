// Deduplication by message id for producers without seq, within the station's dedupWindowMs.
// Expired ids are pruned by the alarm; a lookup ignores them even before that.

export function offsetOfId(sql: SqlStorage, id: string, now: number): number | null {
  const row = sql.exec<{ msg_offset: number }>("SELECT msg_offset FROM dedup_ids WHERE msg_id = ? AND expires_at > ?", id, now).toArray()[0];
  return row?.msg_offset ?? null;
}

export function rememberId(sql: SqlStorage, id: string, offset: number, expiresAt: number): void {
  sql.exec(
    `INSERT INTO dedup_ids (msg_id, msg_offset, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (msg_id) DO UPDATE SET msg_offset = excluded.msg_offset, expires_at = excluded.expires_at`,
    id,
    offset,
    expiresAt,
  );
}

/** Most ids pruned per alarm run: the rest wait for the next run, which comes at once. */
const PRUNE_BATCH = 5000;

export function pruneExpiredIds(sql: SqlStorage, now: number): void {
  sql.exec(
    "DELETE FROM dedup_ids WHERE msg_id IN (SELECT msg_id FROM dedup_ids WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
    now,
    PRUNE_BATCH,
  );
}

export function nextIdExpiry(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM dedup_ids").one().at;
}
