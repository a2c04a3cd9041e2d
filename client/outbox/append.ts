// Enqueue: one action, or several, committed with its seq in ONE strict transaction. The seq
// counter lives in the same transaction as the entry, so tabs enqueueing at once get one
// gapless order, and a failure (quota) leaves neither the entry nor a consumed seq behind.
import type { EncodedAction } from "../encode";
import { type OutboxDB, type StreamRecord } from "./schema";

export interface StreamRef {
  stream: string;
  url: string;
  station: string;
}

/** Appends the actions in order; resolves with their seqs once the transaction committed. */
export async function appendActions(db: OutboxDB, ref: StreamRef, actions: readonly EncodedAction[], now: number): Promise<number[]> {
  const tx = db.transaction(["streams", "outbox"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const outbox = tx.objectStore("outbox");
  const writes: Promise<unknown>[] = [tx.done];
  const seqs: number[] = [];
  try {
    const record: StreamRecord = (await streams.get(ref.stream)) ?? { ...ref, nextSeq: 1, shift: 0 };
    for (const action of actions) {
      const seq = record.nextSeq++;
      seqs.push(seq);
      writes.push(outbox.add({ stream: ref.stream, seq, ...action, enqueuedAt: now }));
    }
    writes.push(streams.put(record));
  } catch (error) {
    // A synchronous throw (e.g. DataCloneError) must not leave a half-done transaction to commit.
    abortQuietly(tx);
    await Promise.allSettled(writes);
    throw error;
  }
  await settleAll(writes);
  return seqs;
}

/**
 * Waits for every request and the commit, leaving no rejection unhandled. Rejects with the
 * cause: a request's own error (e.g. QuotaExceededError) rather than the AbortError it led to.
 */
export async function settleAll(writes: Promise<unknown>[]): Promise<void> {
  const reasons = (await Promise.allSettled(writes)).flatMap((r) => (r.status === "rejected" ? [r.reason as { name?: string }] : []));
  if (reasons.length > 0) throw reasons.find((r) => r?.name !== "AbortError") ?? reasons[0];
}

export function abortQuietly(tx: { abort(): void }): void {
  try {
    tx.abort();
  } catch {
    // already finished
  }
}
