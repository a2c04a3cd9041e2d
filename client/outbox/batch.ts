// What the syncing tab does to the outbox: read the head of a stream as a batch, forget what the
// station acknowledged, move refused actions to the dead letters, and renumber after seq_gap.
// Each is one transaction that first checks the producer, so a store wiped mid-flight is never
// written with answers meant for the old one.
import { abortQuietly, settleAll } from "./append";
import { type DeadEntry, type OutboxDB, type OutboxEntry, PRODUCER_KEY, streamRange } from "./schema";

export interface Batch {
  producer: string;
  stream: string;
  /** Wire seq = entry.seq - shift. */
  shift: number;
  entries: OutboxEntry[];
}

export interface BatchLimits {
  maxMessages: number;
  maxBytes: number;
}

/** The head of the stream: at most `maxMessages`, at most `maxBytes` (but always one). */
export async function readBatch(db: OutboxDB, stream: string, limits: BatchLimits): Promise<Batch | null> {
  const tx = db.transaction(["meta", "streams", "outbox"], "readonly");
  const [producer, record, entries] = await Promise.all([
    tx.objectStore("meta").get(PRODUCER_KEY),
    tx.objectStore("streams").get(stream),
    tx.objectStore("outbox").getAll(streamRange(stream), limits.maxMessages),
  ]);
  if (!producer || !record || entries.length === 0) return null;
  let bytes = 0;
  let count = 0;
  for (const entry of entries) {
    bytes += entry.bytes + 32; // seq, braces, comma
    if (count > 0 && bytes > limits.maxBytes) break;
    count++;
  }
  return { producer, stream, shift: record.shift, entries: entries.slice(0, count) };
}

/** Forgets the batch's entries once the station stored them. False if the store changed producer. */
export async function removeAcked(db: OutboxDB, batch: Batch): Promise<boolean> {
  const tx = db.transaction(["meta", "outbox"], "readwrite");
  if ((await tx.objectStore("meta").get(PRODUCER_KEY)) !== batch.producer) {
    abortQuietly(tx);
    return false;
  }
  const first = batch.entries[0]!.seq;
  const last = batch.entries[batch.entries.length - 1]!.seq;
  await settleAll([tx.objectStore("outbox").delete(IDBKeyRange.bound([batch.stream, first], [batch.stream, last])), tx.done]);
  return true;
}

/**
 * Moves the first `count` entries of the batch (the head of the stream) to the dead letters and
 * shifts the wire seqs of the rest down by as much, so the station, which never stored them,
 * sees no gap. Returns the dead letters' ids, or null if the store changed under us.
 */
export async function deadLetterHead(db: OutboxDB, batch: Batch, count: number, error: DeadEntry["error"], now: number): Promise<number[] | null> {
  const tx = db.transaction(["meta", "streams", "outbox", "dead"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const outbox = tx.objectStore("outbox");
  const [producer, record, head] = await Promise.all([
    tx.objectStore("meta").get(PRODUCER_KEY),
    streams.get(batch.stream),
    outbox.getAll(streamRange(batch.stream), count),
  ]);
  const moved = batch.entries.slice(0, count);
  const unchanged = producer === batch.producer && record?.shift === batch.shift && head.length === count && head.every((e, i) => e.seq === moved[i]!.seq);
  if (!record || !unchanged) {
    abortQuietly(tx);
    return null;
  }
  record.shift += count;
  const writes: Promise<unknown>[] = [tx.done, streams.put(record)];
  const ids: Promise<number>[] = [];
  for (const entry of moved) {
    writes.push(outbox.delete([entry.stream, entry.seq]));
    const added = tx.objectStore("dead").add({ ...entry, error, failedAt: now });
    ids.push(added);
    writes.push(added);
  }
  await settleAll(writes);
  return Promise.all(ids);
}

/**
 * The station names the wire seq it expects next (seq_gap): it is behind what we believe it
 * stored (it was reset). Renumber so that the head of the stream is sent as that seq.
 */
export async function resumeAt(db: OutboxDB, batch: Batch, expectedSeq: number): Promise<boolean> {
  const tx = db.transaction(["meta", "streams", "outbox"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const [producer, record, head] = await Promise.all([
    tx.objectStore("meta").get(PRODUCER_KEY),
    streams.get(batch.stream),
    tx.objectStore("outbox").getAll(streamRange(batch.stream), 1),
  ]);
  const first = head[0];
  const sameHead = first !== undefined && first.seq === batch.entries[0]!.seq;
  // Only ever renumber downwards: a station claiming to be ahead would make us skip actions.
  if (producer !== batch.producer || !record || record.shift !== batch.shift || !sameHead || first.seq - expectedSeq <= record.shift) {
    abortQuietly(tx);
    return false;
  }
  record.shift = first!.seq - expectedSeq;
  await settleAll([streams.put(record), tx.done]);
  return true;
}
