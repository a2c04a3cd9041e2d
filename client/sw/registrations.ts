// The service worker's own IndexedDB database: the outboxes pages asked it to sync (with how to
// get a token) and the last run of each, so a page or a test can see what synced while it was closed.
import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import { storageError } from "../errors";
import { type OutboxRegistration, outboxKey } from "./protocol";

/** The database's name; one per origin, beside the outboxes it points to. */
export const REGISTRY_DB = "waystation-sw";

/** Runs kept (the newest). */
const KEPT_RUNS = 50;

/** What one run of the service worker did for one outbox. */
export interface SyncRun {
  url: string;
  dbName: string;
  /** The event that started the run: sync, periodicsync, message, activate, fetch. */
  trigger: string;
  /** Every event that started or joined the run so far. */
  triggers: string[];
  at: number;
  /** Actions the station ruled stored (acked) and refused (now dead letters) in this run. */
  acked: number;
  rejected: number;
  /** Left pending after the run (a failure that is not a ruling, or the lock held by a tab throughout). */
  pending: number;
  /** Whether this run held the sync lock (false: a tab held it the whole time, and syncs). */
  locked: boolean;
  error?: { code: string; message: string };
}

/** An event the service worker got that may start a sync. */
export interface WorkerEvent {
  type: string;
  at: number;
  tag?: string;
}

interface RegistrySchema extends DBSchema {
  outboxes: { key: string; value: OutboxRegistration & { key: string } };
  runs: { key: number; value: SyncRun };
  events: { key: number; value: WorkerEvent };
}

function open(): Promise<IDBPDatabase<RegistrySchema>> {
  return openDB<RegistrySchema>(REGISTRY_DB, 1, {
    upgrade(db) {
      db.createObjectStore("outboxes", { keyPath: "key" });
      db.createObjectStore("runs", { autoIncrement: true });
      db.createObjectStore("events", { autoIncrement: true });
    },
  });
}

async function use<T>(work: (db: IDBPDatabase<RegistrySchema>) => Promise<T>): Promise<T> {
  let db: IDBPDatabase<RegistrySchema> | undefined;
  try {
    db = await open();
    return await work(db);
  } catch (error) {
    throw storageError(error);
  } finally {
    db?.close(); // short-lived: an idle service worker holds no connection open
  }
}

export function saveRegistration(outbox: OutboxRegistration): Promise<void> {
  return use(async (db) => void (await db.put("outboxes", { ...outbox, key: outboxKey(outbox.dbName, outbox.url) })));
}

export function forgetRegistration(dbName: string, url: string): Promise<void> {
  return use(async (db) => {
    await db.delete("outboxes", outboxKey(dbName, url));
  });
}

export function listRegistrations(): Promise<OutboxRegistration[]> {
  return use(async (db) => (await db.getAll("outboxes")).map(({ key: _key, ...outbox }) => outbox));
}

export function recordRun(run: SyncRun): Promise<void> {
  return keepNewest("runs", run);
}

export function recordEvent(event: WorkerEvent): Promise<void> {
  return keepNewest("events", event);
}

function keepNewest<S extends "runs" | "events">(store: S, value: RegistrySchema[S]["value"]): Promise<void> {
  return use(async (db) => {
    const tx = db.transaction(store, "readwrite");
    await tx.store.add(value);
    const keys = await tx.store.getAllKeys();
    await Promise.all(keys.slice(0, Math.max(0, keys.length - KEPT_RUNS)).map((key) => tx.store.delete(key)));
    await tx.done;
  });
}

/** The newest events, oldest first. */
export function lastEvents(): Promise<WorkerEvent[]> {
  return use((db) => db.getAll("events"));
}

/** The newest runs, oldest first (readable from a page: same origin). */
export function lastRuns(): Promise<SyncRun[]> {
  return use((db) => db.getAll("runs"));
}
