// The outbox database: its idb DBSchema, record types and upgrade. One database per origin
// (per `dbName`); the producer id is created with the database, so a wiped store means a new producer.
import type { DBSchema, IDBPDatabase } from "idb";

export const OUTBOX_VERSION = 1;

/** One (server url, station) the app enqueued to: its next seq and how wire seqs are shifted. */
export interface StreamRecord {
  /** `${url} ${station}`: the key of the stream and the first part of its entries' keys. */
  stream: string;
  url: string;
  station: string;
  /** The seq the next enqueue gets. */
  nextSeq: number;
  /** Wire seq = local seq - shift. Grows when head actions are dead-lettered or the station
   *  says to resume lower (seq_gap), so the station always sees one gapless order. */
  shift: number;
}

/** An action waiting for the station's acknowledgement. */
export interface OutboxEntry {
  stream: string;
  seq: number;
  /** The body as JSON text: what is sent is exactly what was committed. */
  body: string;
  headers?: Record<string, string>;
  key?: string;
  id?: string;
  /** UTF-8 bytes of the message as sent (without its seq): sizes the batches. */
  bytes: number;
  enqueuedAt: number;
}

export interface DeadEntry extends OutboxEntry {
  deadId?: number;
  error: { code: string; message: string; status: number; details?: Record<string, unknown> };
  failedAt: number;
}

export interface OutboxSchema extends DBSchema {
  /** `producer` → the producer id of this origin. */
  meta: { key: string; value: string };
  streams: { key: string; value: StreamRecord };
  outbox: { key: [string, number]; value: OutboxEntry };
  dead: { key: number; value: DeadEntry };
}

export type OutboxDB = IDBPDatabase<OutboxSchema>;

export const PRODUCER_KEY = "producer";

export function upgradeOutbox(db: OutboxDB, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore("meta");
    db.createObjectStore("streams", { keyPath: "stream" });
    db.createObjectStore("outbox", { keyPath: ["stream", "seq"] });
    db.createObjectStore("dead", { keyPath: "deadId", autoIncrement: true });
  }
}

export function streamKey(url: string, station: string): string {
  return `${url} ${station}`;
}

/** All entries of a stream, in seq order. */
export function streamRange(stream: string, fromSeq = 0): IDBKeyRange {
  return IDBKeyRange.bound([stream, fromSeq], [stream, Infinity]);
}

/** A fresh producer id: random, so a new store never collides with an old one's seqs. */
export function newProducerId(): string {
  return `web-${randomId()}`;
}

/** 128 random bits as hex: crypto.randomUUID exists only in secure contexts (https, localhost). */
export function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
