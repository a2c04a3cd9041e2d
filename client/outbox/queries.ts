// Reads for the app and the status line: pending actions, counts per stream, the streams of a server.
import { type OutboxDB, type OutboxEntry, streamRange, type StreamRecord } from "./schema";

/** Every stream of this server, with how many actions wait in each. */
export async function countPending(db: OutboxDB, url: string): Promise<{ record: StreamRecord; pending: number }[]> {
  const tx = db.transaction(["streams", "outbox"], "readonly");
  const records = (await tx.objectStore("streams").getAll()).filter((r) => r.url === url);
  const outbox = tx.objectStore("outbox");
  const counts = await Promise.all(records.map((r) => outbox.count(streamRange(r.stream))));
  return records.map((record, i) => ({ record, pending: counts[i]! }));
}

export function listPending(db: OutboxDB, stream: string): Promise<OutboxEntry[]> {
  return db.getAll("outbox", streamRange(stream));
}
