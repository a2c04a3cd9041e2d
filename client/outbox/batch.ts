// What the syncing tab does to the outbox: read the head of a stream as a batch (one producer
// epoch, consecutive seqs), settle the station's rulings (forget what it stored, move what it
// refused to the dead letters) and move a stream to a new producer. Nothing here renumbers: an
// entry's wire seq under its producer is fixed for life. Every write checks what it read.
import { abortQuietly, loadStream, settleAll, type StreamRef } from "./append";
import { type DeadEntry, epochOf, freshEpoch, type OutboxDB, type OutboxEntry, type ProducerEpoch, sameEpoch, streamRange } from "./db";

export interface Batch {
  stream: string;
  /** The partition the whole batch is sent to (the request's `partition`). */
  partition: number;
  /** The epoch every entry of the batch is sent under: wire seq = entry.seq − epoch.base. */
  epoch: ProducerEpoch;
  entries: OutboxEntry[];
}

export interface BatchLimits {
  maxMessages: number;
  maxBytes: number;
}

/** Bytes a message adds to the request beside its fragment: `{"seq":N,` `}` and a comma. */
const MESSAGE_OVERHEAD_BYTES = 32;
/** Entries read by the first request of a batch read; each next request reads four times more. */
const FIRST_READ = 8;

export function wireSeq(batch: Batch, entry: OutboxEntry): number {
  return entry.seq - batch.epoch.base;
}

/**
 * The head of the stream: consecutive local seqs of one epoch, at most `maxMessages` and
 * `maxBytes` (but always one), skipping the seqs `skip` names. Reads in growing chunks, so a long
 * outbox of big entries is not loaded to send a few. A stream record found missing while entries
 * wait is recreated (see loadStream) rather than leaving them unseen.
 */
export async function readBatch(db: OutboxDB, ref: StreamRef, limits: BatchLimits, skip: (seq: number) => boolean = () => false): Promise<Batch | null> {
  const tx = db.transaction(["streams", "outbox"], "readonly");
  const outbox = tx.objectStore("outbox");
  let record = await tx.objectStore("streams").get(ref.stream);
  const entries: OutboxEntry[] = [];
  let epoch: ProducerEpoch | undefined;
  let endSeq = Infinity;
  let bytes = 0;
  let from = 0;
  let chunk = Math.min(FIRST_READ, limits.maxMessages);
  for (;;) {
    const read = await outbox.getAll(streamRange(ref.stream, from), chunk);
    for (const entry of read) {
      from = entry.seq + 1;
      if (skip(entry.seq)) {
        if (entries.length > 0) return finish();
        continue;
      }
      if (!record) return repairAndRetry();
      if (!epoch) ({ epoch, endSeq } = epochOf(record, entry.seq));
      const previous = entries[entries.length - 1];
      if (previous && (entry.seq !== previous.seq + 1 || entry.seq >= endSeq)) return finish();
      bytes += entry.bytes + MESSAGE_OVERHEAD_BYTES;
      if (previous && bytes > limits.maxBytes) return finish();
      entries.push(entry);
      if (entries.length >= limits.maxMessages) return finish();
    }
    if (read.length < chunk) return finish();
    // Grow, but not past what the byte limit leaves room for at the entries' average size.
    const average = entries.length > 0 ? bytes / entries.length : 1;
    const room = Math.ceil((limits.maxBytes - bytes) / average) + 1;
    chunk = Math.max(1, Math.min(chunk * 4, limits.maxMessages - entries.length, room));
  }

  function finish(): Batch | null {
    return entries.length > 0 ? { stream: ref.stream, partition: ref.partition, epoch: epoch!, entries } : null;
  }

  async function repairAndRetry(): Promise<Batch | null> {
    await repairStream(db, ref);
    record = undefined;
    return readBatch(db, ref, limits, skip);
  }
}

/** Recreates a missing stream record (see loadStream), unless another tab did first. */
export async function repairStream(db: OutboxDB, ref: StreamRef): Promise<void> {
  const tx = db.transaction(["streams", "outbox"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const existing = await streams.get(ref.stream);
  const writes: Promise<unknown>[] = [tx.done];
  if (!existing) writes.push(streams.put(await loadStream(streams, tx.objectStore("outbox"), ref)));
  await settleAll(writes);
}

/** One result of a batch, as the sync engine read the station's ruling. */
export type Ruling =
  | { kind: "stored"; offset: number | null; duplicate: boolean; deadLettered: boolean }
  | { kind: "refused"; duplicate: boolean; error: DeadEntry["error"] }
  /** Not a ruling: the station never reached the message's partition; it stays pending, to be sent again with its seq. */
  | { kind: "unruled" };

export interface Settled {
  /** Entries this call removed as stored (an entry another tab settled first is left out). */
  stored: { entry: OutboxEntry; ruling: Extract<Ruling, { kind: "stored" }> }[];
  /** Entries this call moved to the dead letters, with their ids. */
  refused: { entry: OutboxEntry; ruling: Extract<Ruling, { kind: "refused" }>; deadId: number }[];
  /** Refused entries left in the outbox because there was no room for their dead letter. */
  unmoved: { entry: OutboxEntry; ruling: Extract<Ruling, { kind: "refused" }> }[];
}

/**
 * Applies the station's rulings to the batch's entries in one transaction: stored → deleted,
 * refused → moved to the dead letters (deleted first, so the move needs no net space). If the
 * browser still refuses for quota, the stored ones are deleted alone (deletes need no space) and
 * the refused ones are reported `unmoved`: their seqs are consumed, so resending them is harmless.
 * Returns null if the store no longer holds the batch's producer (wiped, recreated).
 */
export async function settleBatch(db: OutboxDB, batch: Batch, rulings: Ruling[], now: number): Promise<Settled | null> {
  try {
    return await settleOnce(db, batch, rulings, now, true);
  } catch (error) {
    if ((error as { name?: string })?.name !== "QuotaExceededError" || !rulings.some((r) => r.kind === "refused")) throw error;
    return settleOnce(db, batch, rulings, now, false);
  }
}

async function settleOnce(db: OutboxDB, batch: Batch, rulings: Ruling[], now: number, moveRefused: boolean): Promise<Settled | null> {
  const tx = db.transaction(["streams", "outbox", "dead"], "readwrite", { durability: "strict" });
  const outbox = tx.objectStore("outbox");
  const record = await tx.objectStore("streams").get(batch.stream);
  if (!record || !record.epochs.some((e) => sameEpoch(e, batch.epoch))) {
    abortQuietly(tx);
    await tx.done.catch(() => undefined);
    return null;
  }
  const current = await Promise.all(batch.entries.map((e) => outbox.get([e.stream, e.seq])));
  const settled: Settled = { stored: [], refused: [], unmoved: [] };
  const writes: Promise<unknown>[] = [tx.done];
  const ids: Promise<number>[] = [];
  try {
    queueRulings();
  } catch (error) {
    // A synchronous throw (DataCloneError, a quota check up front) must not let the deletes commit alone.
    abortQuietly(tx);
    await Promise.allSettled(writes);
    throw error;
  }
  await settleAll(writes);
  const deadIds = await Promise.all(ids);
  settled.refused.forEach((r, i) => (r.deadId = deadIds[i]!));
  return settled;

  function queueRulings(): void {
    batch.entries.forEach((entry, i) => {
      const ruling = rulings[i]!;
      // Settled by another tab already (no Web Locks), or a different action now: not ours to touch.
      if (!current[i] || !sameAction(current[i]!, entry) || ruling.kind === "unruled") return;
      if (ruling.kind === "stored") {
        writes.push(outbox.delete([entry.stream, entry.seq]));
        settled.stored.push({ entry, ruling });
      } else if (!moveRefused) {
        settled.unmoved.push({ entry, ruling });
      } else {
        writes.push(outbox.delete([entry.stream, entry.seq]));
        const added = tx.objectStore("dead").add(deadEntry(entry, ruling.error, now));
        writes.push(added);
        ids.push(added);
        settled.refused.push({ entry, ruling, deadId: 0 });
      }
    });
  }
}

/** Moves refused entries left in the outbox (no room then) to the dead letters; their ids, or null if gone. */
export async function moveRefused(db: OutboxDB, entries: { entry: OutboxEntry; error: DeadEntry["error"] }[], now: number): Promise<(number | null)[]> {
  const tx = db.transaction(["outbox", "dead"], "readwrite", { durability: "strict" });
  const outbox = tx.objectStore("outbox");
  const current = await Promise.all(entries.map(({ entry }) => outbox.get([entry.stream, entry.seq])));
  const writes: Promise<unknown>[] = [tx.done];
  let ids: Promise<number | null>[];
  try {
    ids = entries.map(({ entry, error }, i) => {
      if (!current[i] || !sameAction(current[i]!, entry)) return Promise.resolve(null);
      writes.push(outbox.delete([entry.stream, entry.seq]));
      const added = tx.objectStore("dead").add(deadEntry(entry, error, now));
      writes.push(added);
      return added;
    });
  } catch (error) {
    abortQuietly(tx);
    await Promise.allSettled(writes);
    throw error;
  }
  await settleAll(writes);
  return Promise.all(ids);
}

/**
 * Moves the entries from local seq `fromSeq` on (up to the next epoch) to a new producer, their
 * first going as wire seq 1 — compare-and-set: only if `fromSeq` still falls in `expected`'s epoch
 * (another tab may have moved it first, without Web Locks). The station lost its memory of the
 * producer (seq_gap below what we sent) or another writer used it (seq_conflict).
 */
export async function moveToNewProducer(db: OutboxDB, stream: string, expected: ProducerEpoch, fromSeq: number): Promise<boolean> {
  const tx = db.transaction(["streams"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const record = await streams.get(stream);
  if (!record || !sameEpoch(epochOf(record, fromSeq).epoch, expected)) {
    abortQuietly(tx);
    await tx.done.catch(() => undefined);
    return false;
  }
  // Inserted, not rewritten: the epochs before keep their entries' wire seqs (a refused entry
  // left there for want of room may still be resent), the ones after keep theirs.
  record.epochs = [...record.epochs.filter((e) => e.fromSeq < fromSeq), freshEpoch(fromSeq), ...record.epochs.filter((e) => e.fromSeq > fromSeq)];
  await settleAll([streams.put(record), tx.done]);
  return true;
}

/**
 * The app gives up on streams' pending actions (see `client.discardStream`): they are deleted
 * and returned, and each stream's next enqueue starts a new producer (the station never ruled on
 * the discarded seqs, so the old producer would answer seq_gap). One transaction for all of them.
 */
export async function discardStreams(db: OutboxDB, refs: readonly StreamRef[]): Promise<OutboxEntry[]> {
  const tx = db.transaction(["streams", "outbox"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const outbox = tx.objectStore("outbox");
  const writes: Promise<unknown>[] = [tx.done];
  const discarded: OutboxEntry[] = [];
  for (const ref of refs) {
    const entries = await outbox.getAll(streamRange(ref.stream));
    if (entries.length === 0) continue;
    const record = await loadStream(streams, outbox, ref);
    record.epochs = [freshEpoch(record.nextSeq)];
    discarded.push(...entries);
    writes.push(outbox.delete(streamRange(ref.stream)), streams.put(record));
  }
  await settleAll(writes);
  return discarded;
}

function sameAction(a: OutboxEntry, b: OutboxEntry): boolean {
  return a.enqueuedAt === b.enqueuedAt && a.id === b.id && a.actionId === b.actionId;
}

function deadEntry(entry: OutboxEntry, error: DeadEntry["error"], now: number): DeadEntry {
  return { ...entry, error, failedAt: now };
}
