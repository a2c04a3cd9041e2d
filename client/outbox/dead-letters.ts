// The local dead letters: actions the station refused for good. The app reads them, retries one
// (enqueued again at the end of its stream, with a new seq, in the same transaction) or drops it.
import { type DeadEntry, type OutboxDB, type StreamRecord } from "./schema";
import { settleAll } from "./append";

export async function listDeadLetters(db: OutboxDB, url: string): Promise<DeadEntry[]> {
  const all = await db.getAll("dead");
  return all.filter((d) => d.stream.startsWith(`${url} `));
}

export async function countDeadLetters(db: OutboxDB, url: string): Promise<number> {
  return (await listDeadLetters(db, url)).length;
}

/** Enqueues the dead letter again as a new action; resolves with its new seq, or null if it is gone. */
export async function retryDeadLetter(db: OutboxDB, deadId: number, now: number): Promise<{ station: string; seq: number } | null> {
  const tx = db.transaction(["streams", "outbox", "dead"], "readwrite", { durability: "strict" });
  const dead = await tx.objectStore("dead").get(deadId);
  const record: StreamRecord | undefined = dead && (await tx.objectStore("streams").get(dead.stream));
  if (!dead || !record) {
    await tx.done;
    return null;
  }
  const seq = record.nextSeq++;
  const { deadId: _id, error: _error, failedAt: _failedAt, ...entry } = dead;
  await settleAll([
    tx.objectStore("outbox").add({ ...entry, seq, enqueuedAt: now }),
    tx.objectStore("streams").put(record),
    tx.objectStore("dead").delete(deadId),
    tx.done,
  ]);
  return { station: record.station, seq };
}

export async function dropDeadLetter(db: OutboxDB, deadId: number): Promise<void> {
  await db.delete("dead", deadId);
}
