// Reads for the app and the status line: pending actions, counts per stream, the streams of a server.
import { type OutboxDB, type OutboxEntry, parseStreamKey, partitionStreamsRange, serverRange, streamKey, streamRange } from "./db";

/**
 * Every stream of this server, with how many actions wait in each (counts, no bodies loaded),
 * including streams whose record went missing while entries remain.
 */
export async function countPending(db: OutboxDB, url: string): Promise<{ stream: string; station: string; partition: number; pending: number }[]> {
  const tx = db.transaction(["streams", "outbox"], "readonly");
  const records = await tx.objectStore("streams").getAll(serverRange(url));
  const outbox = tx.objectStore("outbox");
  const counts = await Promise.all(records.map((r) => outbox.count(streamRange(r.stream))));
  const listed = records.map((record, i) => ({ stream: record.stream, station: record.station, partition: record.partition ?? 0, pending: counts[i]! }));
  const orphans = await orphanStreams(db, url, new Set(records.map((r) => r.stream)));
  const orphanCounts = await Promise.all(orphans.map((stream) => db.count("outbox", streamRange(stream))));
  return [...listed, ...orphans.map((stream, i) => ({ stream, ...parseStreamKey(url, stream), pending: orphanCounts[i]! }))];
}

/**
 * Streams of this server that hold entries but lost their record (a damaged store): the sync
 * engine recreates the record when it reads them, so they are never counted as 0 and forgotten.
 */
export async function orphanStreams(db: OutboxDB, url: string, known: ReadonlySet<string>): Promise<string[]> {
  const found: string[] = [];
  const range = IDBKeyRange.bound([`${url} `, 0], [`${url}!`, 0], false, true);
  let cursor = await db.transaction("outbox").store.openKeyCursor(range);
  while (cursor) {
    const stream = cursor.key[0];
    if (!known.has(stream)) found.push(stream);
    cursor = await cursor.continue([stream, Infinity]); // jump past this stream's entries
  }
  return found;
}

/** A station's pending actions: partition 0's stream, then each other partition's, each in seq order. */
export async function listPending(db: OutboxDB, url: string, station: string): Promise<OutboxEntry[]> {
  const tx = db.transaction("outbox");
  const [first, others] = await Promise.all([tx.store.getAll(streamRange(streamKey(url, station))), tx.store.getAll(partitionStreamsRange(url, station))]);
  return [...first, ...others];
}

/** The current producer of a stream (the one its next enqueue is sent under), if it has one. */
export async function currentProducer(db: OutboxDB, stream: string): Promise<string | undefined> {
  const record = await db.get("streams", stream);
  return record?.epochs[record.epochs.length - 1]?.producer;
}
