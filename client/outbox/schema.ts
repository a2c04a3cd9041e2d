// The outbox database: its idb DBSchema, record types and upgrade. One database per origin (per
// `dbName`); each stream (server url, station) has its own producer ids, so no two streams ever
// share a (producer, seq) space, and an action's wire seq is fixed for life.
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from "idb";

/**
 * History:
 *   1 — one producer per database (`meta.producer`), streams renumbered by `shift`.
 *   2 — producer epochs per stream (`epochs`), an action id per entry, dead letters indexed by stream.
 */
export const OUTBOX_VERSION = 2;

/**
 * A producer a stream sends under, from local seq `fromSeq` on (up to the next epoch's
 * `fromSeq`): wire seq = local seq − `base`. Epochs are only ever appended (or inserted ahead of
 * the entries they cover), never rewritten, so an entry's wire seq never changes under its producer.
 */
export interface ProducerEpoch {
  producer: string;
  fromSeq: number;
  base: number;
}

/** One (server url, station) the app enqueued to: its next local seq and its producer epochs. */
export interface StreamRecord {
  /** `${url} ${station}`: the key of the stream and the first part of its entries' keys. */
  stream: string;
  url: string;
  station: string;
  /** The local seq the next enqueue gets. */
  nextSeq: number;
  /** Sorted by `fromSeq`; at least one. */
  epochs: ProducerEpoch[];
}

/** An action waiting for the station's ruling. */
export interface OutboxEntry {
  stream: string;
  /** Local seq: the one `enqueue()` returned. The wire seq comes from the stream's epoch. */
  seq: number;
  /** The body as JSON text: what is sent is exactly what was committed. */
  body: string;
  headers?: Record<string, string>;
  key?: string;
  /** The app's own id, if it gave one: also the action id sent on the wire. */
  id?: string;
  /** A random action id made at enqueue when the app gave none (entries of version 1 have neither). */
  actionId?: string;
  /** `delayMs` of enqueue(), sent with the message. */
  delayMs?: number;
  /** The schema version the body passed in the browser: the station judges it by that version (docs/schemas.md). */
  schemaName?: string;
  schemaVersion?: number;
  /** UTF-8 bytes of the message as sent (without its seq): sizes the batches. */
  bytes: number;
  enqueuedAt: number;
}

/** An action the station refused (its ruling, `REFUSAL_CODES`), kept until the app retries or drops it. */
export interface DeadEntry extends OutboxEntry {
  deadId?: number;
  error: { code: string; message: string; status: number; details?: Record<string, unknown> };
  failedAt: number;
}

export interface OutboxSchema extends DBSchema {
  /** Version 1 kept the one producer id of the database under `producer`; read by the upgrade only. */
  meta: { key: string; value: string };
  streams: { key: string; value: StreamRecord };
  outbox: { key: [string, number]; value: OutboxEntry };
  dead: { key: number; value: DeadEntry; indexes: { stream: string } };
}

export type OutboxDB = IDBPDatabase<OutboxSchema>;
type UpgradeTx = IDBPTransaction<OutboxSchema, StoreNames<OutboxSchema>[], "versionchange">;

/** Version 1's key of the database's producer id in `meta`. */
export const PRODUCER_KEY = "producer";

/** A stream record as version 1 wrote it. */
interface StreamRecordV1 {
  stream: string;
  url: string;
  station: string;
  nextSeq: number;
  shift: number;
}

export function upgradeOutbox(db: OutboxDB, oldVersion: number, tx: UpgradeTx): void {
  if (oldVersion < 1) {
    db.createObjectStore("meta");
    db.createObjectStore("streams", { keyPath: "stream" });
    db.createObjectStore("outbox", { keyPath: ["stream", "seq"] });
    db.createObjectStore("dead", { keyPath: "deadId", autoIncrement: true });
  }
  if (oldVersion < 2) {
    // Counting a server's dead letters with count() on this index, never loading their bodies.
    tx.objectStore("dead").createIndex("stream", "stream");
    if (oldVersion >= 1) void upgradeStreamsFromV1(tx);
  }
}

/**
 * Version 1 sent every stream under the database's one producer with wire seq = seq − shift.
 * Its pending entries keep exactly that wire seq under that producer (their answers may have
 * been lost: the station must see the same (producer, seq) again); new enqueues start an epoch
 * of a producer of the stream's own at wire seq 1.
 */
async function upgradeStreamsFromV1(tx: UpgradeTx): Promise<void> {
  const legacyProducer = (await tx.objectStore("meta").get(PRODUCER_KEY)) ?? newProducerId();
  let cursor = await tx.objectStore("streams").openCursor();
  while (cursor) {
    const old = cursor.value as unknown as StreamRecordV1;
    const record: StreamRecord = {
      stream: old.stream,
      url: old.url,
      station: old.station,
      nextSeq: old.nextSeq,
      epochs: [
        { producer: legacyProducer, fromSeq: 1, base: old.shift ?? 0 },
        { producer: newProducerId(), fromSeq: old.nextSeq, base: old.nextSeq - 1 },
      ],
    };
    await cursor.update(record);
    cursor = await cursor.continue();
  }
}

/** The first epoch of a stream whose next local seq is `nextSeq`: its next action goes as wire seq 1. */
export function freshEpoch(nextSeq: number): ProducerEpoch {
  return { producer: newProducerId(), fromSeq: nextSeq, base: nextSeq - 1 };
}

/** The epoch a local seq is sent under (the last one starting at or before it). */
export function epochOf(record: StreamRecord, seq: number): { epoch: ProducerEpoch; endSeq: number } {
  let index = 0;
  for (let i = 0; i < record.epochs.length; i++) if (record.epochs[i]!.fromSeq <= seq) index = i;
  return { epoch: record.epochs[index]!, endSeq: record.epochs[index + 1]?.fromSeq ?? Infinity };
}

export function sameEpoch(a: ProducerEpoch, b: ProducerEpoch): boolean {
  return a.producer === b.producer && a.fromSeq === b.fromSeq && a.base === b.base;
}

export function streamKey(url: string, station: string): string {
  return `${url} ${station}`;
}

/** All entries of a stream, in seq order. */
export function streamRange(stream: string, fromSeq = 0): IDBKeyRange {
  return IDBKeyRange.bound([stream, fromSeq], [stream, Infinity]);
}

/**
 * Every stream key of a server: `${url} ` then a station name. A normalised URL holds no space
 * and "!" is the character after it, so the range holds this server's streams and no other's.
 */
export function serverRange(url: string): IDBKeyRange {
  return IDBKeyRange.bound(`${url} `, `${url}!`, false, true);
}

/** A fresh producer id: random, so a new stream never collides with an old one's seqs. */
export function newProducerId(): string {
  return `web-${randomId()}`;
}

/** 128 random bits as hex: crypto.randomUUID exists only in secure contexts (https, localhost). */
export function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
