// The local dead letters: actions the station refused (its ruling consumed their seqs), and only
// those. The app reads them, retries one (enqueued again at the end of its stream, as a new
// action with a new seq, in the same transaction) or drops it. Counts never load bodies.
import { entryBytes } from "../encode";
import { loadStream, settleAll } from "./append";
import { type DeadEntry, type OutboxDB, parseStreamKey, randomId, serverRange } from "./db";

export function listDeadLetters(db: OutboxDB, url: string): Promise<DeadEntry[]> {
  return db.getAllFromIndex("dead", "stream", serverRange(url));
}

/** How many dead letters this server's streams hold: an index count, whatever their size. */
export function countDeadLetters(db: OutboxDB, url: string): Promise<number> {
  return db.countFromIndex("dead", "stream", serverRange(url));
}

/**
 * Enqueues the dead letter again as a new action at the end of its own stream (same partition);
 * resolves with its new seq, or null if it is gone.
 */
export async function retryDeadLetter(db: OutboxDB, url: string, deadId: number, now: number): Promise<{ station: string; seq: number; partition: number } | null> {
  const tx = db.transaction(["streams", "outbox", "dead"], "readwrite", { durability: "strict" });
  const dead = await tx.objectStore("dead").get(deadId);
  if (!dead) {
    await tx.done;
    return null;
  }
  const { deadId: _id, error: _error, failedAt: _failedAt, ...entry } = dead;
  const { station, partition } = parseStreamKey(url, dead.stream);
  const record = await loadStream(tx.objectStore("streams"), tx.objectStore("outbox"), { stream: dead.stream, url, station, partition });
  const seq = record.nextSeq++;
  // A new action for the station (the refused seq stays ruled): a new action id, unless the app gave its own.
  if (entry.id === undefined) entry.actionId = randomId();
  entry.bytes = entryBytes(entry);
  await settleAll([
    tx.objectStore("dead").delete(deadId),
    tx.objectStore("outbox").add({ ...entry, seq, enqueuedAt: now }),
    tx.objectStore("streams").put(record),
    tx.done,
  ]);
  return { station: record.station, seq, partition };
}

export async function dropDeadLetter(db: OutboxDB, deadId: number): Promise<void> {
  await db.delete("dead", deadId);
}
