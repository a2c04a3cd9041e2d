// Helpers for the doc station tests: yjs documents that produce their updates to a station
// as `{"$binary": …}` bodies, and reads of the station's document state.
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import * as Y from "yjs";
import { decodeBinaryBody, encodeBinaryBody } from "../../shared/binary";
import { ADMIN_TOKEN, api, createStation, produce } from "./helpers";

export function stationStub(name: string): DurableObjectStub {
  const ns = (env as unknown as { STATION: DurableObjectNamespace }).STATION;
  return ns.get(ns.idFromName(name));
}

export function createDocStation(config: Record<string, unknown> = {}): Promise<string> {
  return createStation({ kind: "doc", ...config });
}

/** A Y.Doc whose every local update is collected, to be produced in order. */
export function recordingDoc(clientID?: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  if (clientID !== undefined) doc.clientID = clientID;
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  return { doc, updates };
}

/** Produces updates as one producer, seqs from `firstSeq`, in batches of `batchSize`. */
export async function produceUpdates(station: string, producer: string, updates: Uint8Array[], firstSeq = 1, batchSize = 500): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = 0; i < updates.length; i += batchSize) {
    const messages = updates.slice(i, i + batchSize).map((update, j) => ({ seq: firstSeq + i + j, body: encodeBinaryBody(update) }));
    const res = await produce(station, { producer, messages });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    offsets.push(...res.body.results.map((r: { offset: number }) => r.offset));
  }
  return offsets;
}

export interface DocAnswer {
  update: Uint8Array;
  stateVector: Uint8Array;
  offset: number;
  snapshotOffset: number;
  tailUpdates: number;
}

export async function readDoc(station: string, stateVector?: Uint8Array): Promise<DocAnswer> {
  const res = stateVector
    ? await api("POST", `/v1/stations/${station}/doc`, { stateVector: encodeBinaryBody(stateVector) })
    : await api("GET", `/v1/stations/${station}/doc`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    update: decodeBinaryBody(res.body.update)!,
    stateVector: decodeBinaryBody(res.body.stateVector)!,
    offset: res.body.offset,
    snapshotOffset: res.body.snapshotOffset,
    tailUpdates: res.body.tailUpdates,
  };
}

/** `GET …/doc` asking for the raw update (the JSON helper would read the body as text). */
export function fetchBinaryDoc(station: string): Promise<Response> {
  const request = new Request(`https://waystation.test/v1/stations/${station}/doc`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "application/octet-stream" },
  });
  return (exports as any).default.fetch(request);
}

/** The canonical encoding of a document built from `updates`: equal bytes mean equal state. */
export function canonicalState(...updates: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return Y.encodeStateAsUpdate(doc);
}

export function textOf(update: Uint8Array, name = "t"): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc.getText(name).toString();
}

/**
 * Runs the station's due alarm tasks now and waits for them. (An alarm set to "now" may
 * already have fired by itself; tasks are idempotent, so running them again is harmless.)
 */
export async function runAlarmNow(station: string): Promise<void> {
  const { runInDurableObject } = await import("cloudflare:test");
  await runInDurableObject(stationStub(station), (instance) => (instance as unknown as { alarm(): Promise<void> }).alarm());
}

/** The stored snapshot's row and chunk sizes, read inside the object. */
export function snapshotRows(station: string) {
  return runInStation(station, (sql) => ({
    meta: sql.exec<{ covers_offset: number; bytes: number; chunks: number; compactions: number }>("SELECT covers_offset, bytes, chunks, compactions FROM doc_snapshot").toArray()[0] ?? null,
    chunkSizes: sql.exec<{ size: number }>("SELECT length(data) AS size FROM doc_snapshot_chunks ORDER BY chunk").toArray().map((r) => r.size),
  }));
}

async function runInStation<T>(station: string, work: (sql: SqlStorage) => T): Promise<T> {
  const { runInDurableObject } = await import("cloudflare:test");
  return runInDurableObject(stationStub(station), (_instance, state) => work(state.storage.sql));
}
