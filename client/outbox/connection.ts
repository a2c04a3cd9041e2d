// The IndexedDB connection of one client: opened lazily, reopened when the browser closes it
// (eviction, "clear site data", a newer version elsewhere), and every failure made a typed error.
import { openDB } from "idb";
import { storageError } from "../errors";
import { newProducerId, OUTBOX_VERSION, type OutboxDB, type OutboxSchema, PRODUCER_KEY, upgradeOutbox } from "./schema";

export class Connection {
  private db: Promise<OutboxDB> | undefined;
  /** Bumped whenever the connection is lost, so a failure during a lost connection is retried. */
  private generation = 0;

  constructor(readonly name: string) {}

  private open(): Promise<OutboxDB> {
    if (!this.db) {
      const opening = openDB<OutboxSchema>(this.name, OUTBOX_VERSION, {
        upgrade(db, oldVersion, _newVersion, tx) {
          upgradeOutbox(db, oldVersion);
          // Created with the store: a store wiped by the browser comes back with a new producer.
          if (oldVersion < 1) void tx.objectStore("meta").put(newProducerId(), PRODUCER_KEY);
        },
        // Another tab wants a newer version or deletes the database: let it, reopen on next use.
        blocking: () => this.lose(opening),
        // The browser closed the connection abnormally (storage cleared, disk error).
        terminated: () => this.lose(opening),
      });
      this.db = opening;
      opening.catch(() => {
        if (this.db === opening) this.db = undefined;
      });
    }
    return this.db;
  }

  private lose(which: Promise<OutboxDB>): void {
    if (this.db !== which) return;
    this.db = undefined;
    this.generation++;
    void which.then((db) => db.close(), () => {});
  }

  /**
   * Runs `work` against the database. If the connection was lost while it ran (or was already
   * closed), it runs once more on a fresh connection: work is one transaction, so a lost
   * connection means it was aborted whole and running it again is safe.
   */
  async run<T>(work: (db: OutboxDB) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      const opening = this.open();
      try {
        return await work(await opening);
      } catch (error) {
        const closed = (error as { name?: string } | null)?.name === "InvalidStateError";
        if (attempt === 0 && (closed || this.generation !== generation)) {
          this.lose(opening);
          continue;
        }
        throw storageError(error);
      }
    }
  }

  close(): void {
    if (this.db) this.lose(this.db);
  }
}
