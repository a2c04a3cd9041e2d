// The outbox database: its idb DBSchema, record types and upgrade. One database per origin (per
// `dbName`); each stream (server url, station, partition) has its own producer ids, so no two
// streams ever share a (producer, seq) space, and an action's wire seq is fixed for life.
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from "idb";
import type { PlainError } from "../errors";

/**
 * History:
 *   1 — one producer per database (`meta.producer`), streams renumbered by `shift`.
 *   2 — producer epochs per stream (`epochs`), an action id per entry, dead letters indexed by stream.
 *   3 — a stream per partition (`${url} ${station}#P`; partition 0 keeps the key of version 2), and
 *       a `stations` store: the partition count new enqueues route by, and the keyless origin id.
 */
export const OUTBOX_VERSION = 3;

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

/** One (server url, station, partition) the app enqueued to: its next local seq and its producer epochs. */
export interface StreamRecord {
  /** streamKey(url, station, partition): the key of the stream and the first part of its entries' keys. */
  stream: string;
  url: string;
  station: string;
  /** The partition every entry of the stream is sent to; absent (0) on records of version 2. */
  partition?: number;
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
  error: PlainError;
  failedAt: number;
}

/**
 * What the outbox knows of a station's partitions. An action's partition is chosen at enqueue
 * from `partitions` and kept for life; a count the station answered (`seen`) is adopted for new
 * enqueues only once the station has no pending action, so one client's actions of a key (and its
 * keyless actions) never run in two partitions at once.
 */
export interface StationRecord {
  /** stationKey(url, station). */
  key: string;
  url: string;
  station: string;
  /** The count new enqueues route by (1 until a station said otherwise). */
  partitions: number;
  /** The count the station last answered with, when it differs from `partitions`. */
  seen?: number;
  /** Routes this client's keyless actions (partitionFor's producer): one partition, so they keep their order. */
  origin: string;
}

export interface OutboxSchema extends DBSchema {
  /** Version 1 kept the one producer id of the database under `producer`; read by the upgrade only. */
  meta: { key: string; value: string };
  streams: { key: string; value: StreamRecord };
  stations: { key: string; value: StationRecord };
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
  // Streams of version 2 are partition 0 under their old key: they sync on as they were.
  if (oldVersion < 3) db.createObjectStore("stations", { keyPath: "key" });
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

/**
 * A stream's key: `${url} ${station}` for partition 0 (as version 2 named every stream), then
 * `${url} ${station}#P`. A station name holds no "#", so the key reads back unambiguously.
 */
export function streamKey(url: string, station: string, partition = 0): string {
  return partition === 0 ? `${url} ${station}` : `${url} ${station}#${partition}`;
}

/** The station and partition of a stream key of server `url`. */
export function parseStreamKey(url: string, stream: string): { station: string; partition: number } {
  const rest = stream.slice(url.length + 1);
  const hash = rest.indexOf("#");
  return hash < 0 ? { station: rest, partition: 0 } : { station: rest.slice(0, hash), partition: Number(rest.slice(hash + 1)) };
}

export function stationKey(url: string, station: string): string {
  return `${url} ${station}`;
}

/**
 * The outbox keys of every partition stream of a station above 0 (`${url} ${station}#…`): "#" is
 * below every character a station name may hold, so no other station's stream falls in between.
 */
export function partitionStreamsRange(url: string, station: string): IDBKeyRange {
  return IDBKeyRange.bound([`${url} ${station}#`, 0], [`${url} ${station}$`, 0], false, true);
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
