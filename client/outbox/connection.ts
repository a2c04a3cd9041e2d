// The IndexedDB connection of one client: opened lazily, reopened when the browser closes it
// (eviction, "clear site data", a newer version elsewhere, Safari's "connection to IndexedDB
// lost"), and every failure made a typed error.
import { openDB } from "idb";
import { storageError } from "../errors";
import { OUTBOX_VERSION, type OutboxDB, type OutboxSchema, upgradeOutbox } from "./db";

export class Connection {
  private db: Promise<OutboxDB> | undefined;
  /** Bumped whenever the connection is lost, so a failure during a lost connection is retried. */
  private generation = 0;

  constructor(readonly name: string) {}

  private open(): Promise<OutboxDB> {
    if (!this.db) {
      const opening = openDB<OutboxSchema>(this.name, OUTBOX_VERSION, {
        // Producers are made per stream, with the stream's record: a store wiped by the browser
        // comes back empty, so its streams start again under new producers.
        upgrade: (db, oldVersion, _newVersion, tx) => upgradeOutbox(db, oldVersion, tx),
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
        if (attempt === 0 && (isLostConnection(error) || this.generation !== generation)) {
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

/**
 * The connection is dead, not the request: InvalidStateError (used after the browser closed it)
 * or UnknownError (Safari's "Connection to Indexed Database server lost. Refresh the page to try
 * again", WebKit bug 197050, after which every transaction on that connection fails).
 */
function isLostConnection(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === "InvalidStateError" || name === "UnknownError";
}
