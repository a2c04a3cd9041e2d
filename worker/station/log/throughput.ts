// The station's recent throughput: produced and delivered counts per 10-s bucket in a bounded
// ring (at most THROUGHPUT_BUCKETS + 1 rows), plus the running delivered total. Kept in SQLite
// and written in the same transaction as the work it counts, not in memory: an object is
// evicted when idle, and an in-memory ring would forget the burst just before the quiet spell.
import { THROUGHPUT_BUCKET_MS, THROUGHPUT_BUCKETS, type ThroughputBucket, throughputBucketAt } from "../../../shared/throughput";

interface BucketRow {
  bucket_at: number;
  produced: number;
  delivered: number;
  [column: string]: SqlStorageValue;
}

/** The bucket each object last pruned the ring at: once per bucket is enough, not once per batch.
 *  (A rolled-back prune only leaves rows outside the window, which reads never return.) */
const prunedAt = new WeakMap<SqlStorage, number>();

/** Counts `produced` new messages and `delivered` hand-outs at `now`; prunes buckets out of the window. */
export function countThroughput(sql: SqlStorage, now: number, counts: { produced?: number; delivered?: number }): void {
  const produced = counts.produced ?? 0;
  const delivered = counts.delivered ?? 0;
  if (produced <= 0 && delivered <= 0) return;
  const bucketAt = throughputBucketAt(now);
  sql.exec(
    `INSERT INTO throughput (bucket_at, produced, delivered) VALUES (?, ?, ?)
     ON CONFLICT (bucket_at) DO UPDATE SET produced = produced + excluded.produced, delivered = delivered + excluded.delivered`,
    bucketAt,
    produced,
    delivered,
  );
  if (prunedAt.get(sql) !== bucketAt) {
    sql.exec("DELETE FROM throughput WHERE bucket_at <= ?", bucketAt - THROUGHPUT_BUCKETS * THROUGHPUT_BUCKET_MS);
    prunedAt.set(sql, bucketAt);
  }
  if (delivered > 0) {
    sql.exec(
      `INSERT INTO throughput_totals (id, delivered) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET delivered = delivered + excluded.delivered`,
      delivered,
    );
  }
}

/** The last THROUGHPUT_BUCKETS buckets up to the one holding `now`, oldest first, empty ones as zeros. */
export function readThroughput(sql: SqlStorage, now: number): ThroughputBucket[] {
  const newest = throughputBucketAt(now);
  const oldest = newest - (THROUGHPUT_BUCKETS - 1) * THROUGHPUT_BUCKET_MS;
  const rows = sql
    .exec<BucketRow>("SELECT bucket_at, produced, delivered FROM throughput WHERE bucket_at >= ? AND bucket_at <= ?", oldest, newest)
    .toArray();
  const byBucket = new Map(rows.map((row) => [row.bucket_at, row]));
  const buckets: ThroughputBucket[] = [];
  for (let at = oldest; at <= newest; at += THROUGHPUT_BUCKET_MS) {
    const row = byBucket.get(at);
    buckets.push({ at, produced: row?.produced ?? 0, delivered: row?.delivered ?? 0 });
  }
  return buckets;
}

/** Messages ever handed out by this station (never decreases; survives restarts). */
export function deliveredTotal(sql: SqlStorage): number {
  return sql.exec<{ delivered: number }>("SELECT delivered FROM throughput_totals WHERE id = 1").toArray()[0]?.delivered ?? 0;
}
