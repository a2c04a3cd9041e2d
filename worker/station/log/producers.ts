// Per-producer state: the last seq ruled on (stored, dead-lettered or refused; what each seq
// was ruled is read back by rulings.ts). A producer's row is never pruned: forgetting it would
// let a resend be ruled twice.

/** Producers whose last seq is kept in memory: enough for every active browser of a station. */
const CACHED_PRODUCERS = 10_000;

/**
 * The last seq of each producer, read through an in-memory cache. The Station object is the
 * only writer of its producers table, so the cache can only go stale when a transaction is
 * rolled back or the station deleted: the Station calls `forget()` then.
 */
export class ProducerSeqs {
  private readonly cache = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {}

  last(producer: string): number {
    const cached = this.cache.get(producer);
    if (cached !== undefined) return cached;
    const row = this.sql.exec<{ last_seq: number }>("SELECT last_seq FROM producers WHERE producer = ?", producer).toArray()[0];
    const seq = row?.last_seq ?? 0;
    this.remember(producer, seq);
    return seq;
  }

  record(producer: string, seq: number, now: number): void {
    this.sql.exec(
      `INSERT INTO producers (producer, last_seq, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (producer) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
      producer,
      seq,
      now,
    );
    this.remember(producer, seq);
  }

  /** Drops the cache: after a rolled-back transaction, or when storage was wiped. */
  forget(): void {
    this.cache.clear();
  }

  private remember(producer: string, seq: number): void {
    this.cache.delete(producer); // re-inserted last: the Map's order is least recently used first
    this.cache.set(producer, seq);
    if (this.cache.size > CACHED_PRODUCERS) this.cache.delete(this.cache.keys().next().value!);
  }
}
