// Enqueue: one action, or several, committed with its partition and seq in ONE strict
// transaction. The seq counters and the station's partition count live in the same transaction
// as the entries, so tabs enqueueing at once get one gapless order per stream, and a failure
// (quota) leaves neither an entry nor a consumed seq behind.
import type { IDBPObjectStore } from "idb";
import { partitionFor } from "../../shared/partitions";
import { entryBytes, type EncodedAction } from "../encode";
import {
  freshEpoch,
  type OutboxDB,
  type OutboxEntry,
  type OutboxSchema,
  partitionStreamsRange,
  randomId,
  type StationRecord,
  stationKey,
  streamKey,
  streamRange,
  type StreamRecord,
} from "./db";

export interface StreamRef {
  stream: string;
  url: string;
  station: string;
  partition: number;
}

/** Where an enqueued action went: its partition, and its seq in that partition's stream. */
export interface Appended {
  seq: number;
  partition: number;
}

type Store<Name extends "streams" | "outbox" | "stations"> = IDBPObjectStore<OutboxSchema, ("streams" | "outbox" | "dead" | "stations")[], Name, "readwrite" | "readonly">;

/**
 * Appends the actions in order, each to the stream of its partition (by its key, else the
 * station's origin id, over the count the outbox knows); resolves once the transaction committed.
 * `partition` pins them all to one partition (a stream made before anything is enqueued).
 */
export async function appendActions(db: OutboxDB, url: string, station: string, actions: readonly EncodedAction[], now: number, partition?: number): Promise<Appended[]> {
  const tx = db.transaction(["stations", "streams", "outbox"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const outbox = tx.objectStore("outbox");
  const writes: Promise<unknown>[] = [tx.done];
  const appended: Appended[] = [];
  try {
    const routing = await loadRouting(tx.objectStore("stations"), outbox, url, station);
    if (routing.changed) writes.push(tx.objectStore("stations").put(routing.record));
    const records = new Map<number, StreamRecord>();
    const recordOf = async (p: number) => {
      let record = records.get(p);
      if (!record) records.set(p, (record = await loadStream(streams, outbox, { stream: streamKey(url, station, p), url, station, partition: p })));
      return record;
    };
    if (partition !== undefined) await recordOf(partition);
    for (const action of actions) {
      const p = partition ?? partitionFor(action.key, routing.record.origin, routing.record.partitions) ?? 0;
      const record = await recordOf(p);
      const seq = record.nextSeq++;
      appended.push({ seq, partition: p });
      writes.push(outbox.add(newEntry(record.stream, seq, action, now)));
    }
    for (const record of records.values()) writes.push(streams.put(record));
  } catch (error) {
    // A synchronous throw (e.g. DataCloneError) must not leave a half-done transaction to commit.
    abortQuietly(tx);
    await Promise.allSettled(writes);
    throw error;
  }
  await settleAll(writes);
  return appended;
}

/**
 * The station's routing record, made on first use (count 1, a fresh origin id). A count the
 * station answered is adopted here, for this and later enqueues, only when none of the station's
 * actions is pending: queued actions keep their partition, and new ones of the same key (or
 * keyless ones) could otherwise overtake them in another partition.
 */
async function loadRouting(stations: Store<"stations">, outbox: Store<"outbox">, url: string, station: string): Promise<{ record: StationRecord; changed: boolean }> {
  const existing = await stations.get(stationKey(url, station));
  if (!existing) return { record: { key: stationKey(url, station), url, station, partitions: 1, origin: randomId() }, changed: true };
  if (existing.seen === undefined || existing.seen === existing.partitions) return { record: existing, changed: false };
  const [first, others] = await Promise.all([outbox.count(streamRange(streamKey(url, station))), outbox.count(partitionStreamsRange(url, station))]);
  if (first + others > 0) return { record: existing, changed: false };
  const { seen, ...adopted } = existing;
  return { record: { ...adopted, partitions: seen }, changed: true };
}

/** Notes the partition count the station answered with; a change is adopted by a later enqueue (see loadRouting). */
export async function notePartitionCount(db: OutboxDB, url: string, station: string, partitions: number): Promise<void> {
  const tx = db.transaction("stations", "readwrite", { durability: "strict" });
  const existing = await tx.store.get(stationKey(url, station));
  const writes: Promise<unknown>[] = [tx.done];
  if (!existing) writes.push(tx.store.put({ key: stationKey(url, station), url, station, partitions: 1, origin: randomId(), ...(partitions === 1 ? {} : { seen: partitions }) }));
  else if ((existing.seen ?? existing.partitions) !== partitions) {
    const { seen: _seen, ...rest } = existing;
    writes.push(tx.store.put(partitions === existing.partitions ? rest : { ...rest, seen: partitions }));
  }
  await settleAll(writes);
}

/**
 * An outbox entry for an action: with a random action id when the app gave none, so the station
 * can tell a resend of this action from another writer's action under the same (producer, seq).
 */
export function newEntry(stream: string, seq: number, action: Omit<EncodedAction, "bytes">, now: number): OutboxEntry {
  const entry: OutboxEntry = { stream, seq, body: action.body, bytes: 0, enqueuedAt: now };
  if (action.headers !== undefined) entry.headers = action.headers;
  if (action.key !== undefined) entry.key = action.key;
  if (action.delayMs !== undefined) entry.delayMs = action.delayMs;
  if (action.id !== undefined) entry.id = action.id;
  else entry.actionId = randomId();
  if (action.schemaVersion !== undefined && action.schemaName !== undefined) {
    entry.schemaName = action.schemaName;
    entry.schemaVersion = action.schemaVersion;
  }
  entry.bytes = entryBytes(entry);
  return entry;
}

/**
 * The stream's record, or a new one. A record missing while entries remain (a store damaged, a
 * record deleted) is recreated after the last entry, with a new producer from the first entry on:
 * never a seq reused, never entries hidden behind a count of 0. The caller puts it back.
 */
export async function loadStream(streams: Store<"streams">, outbox: Store<"outbox">, ref: StreamRef): Promise<StreamRecord> {
  const existing = await streams.get(ref.stream);
  if (existing) return existing;
  const [first, last] = await Promise.all([outbox.openCursor(streamRange(ref.stream)), outbox.openCursor(streamRange(ref.stream), "prev")]);
  const nextSeq = last ? last.value.seq + 1 : 1;
  const record: StreamRecord = { stream: ref.stream, url: ref.url, station: ref.station, nextSeq, epochs: [freshEpoch(first ? first.value.seq : nextSeq)] };
  if (ref.partition !== 0) record.partition = ref.partition;
  return record;
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
