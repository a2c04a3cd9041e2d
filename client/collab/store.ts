// The local side of collaborative documents, in IndexedDB beside the outbox: every update a doc
// saw (so it opens offline), and the local edits not yet handed to the outbox (merged there
// while they wait). One database per client `dbName`; documents keyed by `${url} ${station}`.
import { type DBSchema, type IDBPDatabase, openDB } from "idb";

export interface UpdateRecord {
  id?: number;
  doc: string;
  update: Uint8Array;
}

export interface DocMeta {
  doc: string;
  /** The station offset this copy caught up with. */
  serverOffset: number;
  /** The highest offset the station gave one of our edits. */
  acknowledgedOffset: number | null;
}

interface DocSchema extends DBSchema {
  /** Everything this copy holds (local and remote), compacted now and then into one update. */
  updates: { key: number; value: UpdateRecord; indexes: { doc: string } };
  /** Local edits waiting to go to the outbox. */
  pending: { key: number; value: UpdateRecord; indexes: { doc: string } };
  meta: { key: string; value: DocMeta };
}

export type DocDB = IDBPDatabase<DocSchema>;

const VERSION = 1;

export function openDocDB(name: string): Promise<DocDB> {
  return openDB<DocSchema>(name, VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore("updates", { keyPath: "id", autoIncrement: true }).createIndex("doc", "doc");
        db.createObjectStore("pending", { keyPath: "id", autoIncrement: true }).createIndex("doc", "doc");
        db.createObjectStore("meta", { keyPath: "doc" });
      }
    },
  });
}

export interface LoadedDoc {
  updates: UpdateRecord[];
  pending: UpdateRecord[];
  meta: DocMeta;
}

export async function loadDoc(db: DocDB, doc: string): Promise<LoadedDoc> {
  const tx = db.transaction(["updates", "pending", "meta"], "readonly");
  const [updates, pending, meta] = await Promise.all([
    tx.objectStore("updates").index("doc").getAll(doc),
    tx.objectStore("pending").index("doc").getAll(doc),
    tx.objectStore("meta").get(doc),
  ]);
  return { updates, pending, meta: meta ?? { doc, serverOffset: 0, acknowledgedOffset: null } };
}

/** A local edit: kept for the next load and queued for the outbox, in one strict transaction. */
export async function storeLocalEdit(db: DocDB, doc: string, update: Uint8Array): Promise<void> {
  const tx = db.transaction(["updates", "pending"], "readwrite", { durability: "strict" });
  await Promise.all([tx.objectStore("updates").add({ doc, update }), tx.objectStore("pending").add({ doc, update }), tx.done]);
}

/** A remote update (or a catch-up): kept for the next load, with how far this copy got. */
export async function storeRemote(db: DocDB, doc: string, update: Uint8Array | null, meta: DocMeta): Promise<void> {
  const tx = db.transaction(["updates", "meta"], "readwrite");
  const writes: Promise<unknown>[] = [tx.objectStore("meta").put(meta), tx.done];
  if (update) writes.push(tx.objectStore("updates").add({ doc, update }));
  await Promise.all(writes);
}

export async function storeMeta(db: DocDB, meta: DocMeta): Promise<void> {
  await db.put("meta", meta);
}

/** Replaces the updates with ids up to `throughId` by `state` (which holds them all). */
export async function compactUpdates(db: DocDB, doc: string, state: Uint8Array, throughId: number): Promise<void> {
  const tx = db.transaction("updates", "readwrite", { durability: "strict" });
  const store = tx.objectStore("updates");
  const ids = (await store.index("doc").getAllKeys(doc)).filter((id) => id <= throughId);
  await Promise.all([...ids.map((id) => store.delete(id)), store.add({ doc, update: state }), tx.done]);
}

export async function countUpdates(db: DocDB, doc: string): Promise<{ count: number; lastId: number }> {
  const ids = await db.getAllKeysFromIndex("updates", "doc", doc);
  return { count: ids.length, lastId: ids.length > 0 ? Math.max(...ids) : 0 };
}

export async function readPending(db: DocDB, doc: string): Promise<UpdateRecord[]> {
  return db.getAllFromIndex("pending", "doc", doc);
}

export async function countPending(db: DocDB, doc: string): Promise<number> {
  return db.countFromIndex("pending", "doc", doc);
}

/** Queues an update for the outbox that the local copy already holds (what the station lacks). */
export async function addPending(db: DocDB, doc: string, update: Uint8Array): Promise<void> {
  const tx = db.transaction("pending", "readwrite", { durability: "strict" });
  await Promise.all([tx.objectStore("pending").add({ doc, update }), tx.done]);
}

/** Forgets pending edits once the outbox holds them (the outbox transaction committed first). */
export async function dropPending(db: DocDB, ids: readonly number[]): Promise<void> {
  const tx = db.transaction("pending", "readwrite", { durability: "strict" });
  await Promise.all([...ids.map((id) => tx.objectStore("pending").delete(id)), tx.done]);
}

/** Replaces waiting edits `ids` by one record holding them all (merged). */
export async function replacePending(db: DocDB, doc: string, merged: Uint8Array, ids: readonly number[]): Promise<void> {
  const tx = db.transaction("pending", "readwrite", { durability: "strict" });
  const pending = tx.objectStore("pending");
  await Promise.all([pending.add({ doc, update: merged }), ...ids.map((id) => pending.delete(id)), tx.done]);
}
