// Enqueue: one action, or several, committed with its seq in ONE strict transaction. The seq
// counter lives in the same transaction as the entry, so tabs enqueueing at once get one
// gapless order, and a failure (quota) leaves neither the entry nor a consumed seq behind.
import type { IDBPObjectStore } from "idb";
import { entryBytes, type EncodedAction } from "../encode";
import { freshEpoch, type OutboxEntry, type OutboxSchema, randomId, streamRange, type StreamRecord } from "./schema";

export interface StreamRef {
  stream: string;
  url: string;
  station: string;
}

type Store<Name extends "streams" | "outbox"> = IDBPObjectStore<OutboxSchema, ("streams" | "outbox" | "dead")[], Name, "readwrite" | "readonly">;

/** Appends the actions in order; resolves with their seqs once the transaction committed. */
export async function appendActions(db: import("./schema").OutboxDB, ref: StreamRef, actions: readonly EncodedAction[], now: number): Promise<number[]> {
  const tx = db.transaction(["streams", "outbox"], "readwrite", { durability: "strict" });
  const streams = tx.objectStore("streams");
  const outbox = tx.objectStore("outbox");
  const writes: Promise<unknown>[] = [tx.done];
  const seqs: number[] = [];
  try {
    const record = await loadStream(streams, outbox, ref);
    for (const action of actions) {
      const seq = record.nextSeq++;
      seqs.push(seq);
      writes.push(outbox.add(newEntry(ref.stream, seq, action, now)));
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
  const record = await streams.get(ref.stream);
  if (record) return record;
  const [first, last] = await Promise.all([outbox.openCursor(streamRange(ref.stream)), outbox.openCursor(streamRange(ref.stream), "prev")]);
  const nextSeq = last ? last.value.seq + 1 : 1;
  return { ...ref, nextSeq, epochs: [freshEpoch(first ? first.value.seq : nextSeq)] };
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
