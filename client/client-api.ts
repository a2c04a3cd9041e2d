// The public `Client` interface. Apart from client/types.ts because it names WaystationDoc, whose
// module itself depends on those types.
import type { DocOptions, WaystationDoc } from "./collab/doc";
import type { ClientEvents, DeadLetter, PendingAction, BlockedStream, Station, Status } from "./types";

/**
 * One client per page. Sync runs in the background; these calls let the app see and steer it.
 *
 * @example
 * client.on("status", (s) => (badge.textContent = `${s.state} · ${s.pending} pending`));
 * await client.flush(); // sync now, e.g. before the user logs out
 */
export interface Client {
  /** A station by name (`^[a-z0-9][a-z0-9._-]{0,127}$`). Cheap; call it as often as you like. */
  station(name: string): Station;
  /** Syncs now (in the syncing tab) and resolves with the status once that pass is over. */
  flush(): Promise<Status>;
  /** The latest status. */
  readonly status: Status;
  /** Listens to `acked`, `rejected` and `status` events of every station; returns the unsubscribe. */
  on<K extends keyof ClientEvents>(event: K, listener: (event: ClientEvents[K]) => void): () => void;
  /** Actions not yet acknowledged, of every station, in order per station. */
  pending(): Promise<PendingAction[]>;
  /**
   * Actions the station refused — its ruling on that seq, in a 200 (too large, failing the schema…)
   * — kept until retried or dropped. Nothing else ever becomes a dead letter: a token refused, a
   * missing station, a proxy's error page or an outage leave actions pending, in order.
   */
  deadLetters(): Promise<DeadLetter[]>;
  /** Enqueues a dead letter again, at the end of its stream (its station and partition) with a new seq. */
  retryDeadLetter(deadLetterId: number): Promise<{ station: string; seq: number; partition: number }>;
  /** Forgets a dead letter. */
  dropDeadLetter(deadLetterId: number): Promise<void>;
  /**
   * Streams (stations of this server, a stream per partition) whose last attempt got an answer
   * that was not a ruling — 401/403, `station_not_found`, `partition_out_of_range` (the station
   * was made again with fewer partitions), a proxy's page, 413/422 at the edge, a 5xx — with that error,
   * since when and how many attempts in a row. Their actions stay pending and are retried with
   * backoff; a stream leaves this list by itself once the station rules again.
   *
   * @example
   * for (const b of await client.blockedStreams()) if (b.error.code === "station_not_found") showStuck(b.station, b.pending)
   */
  blockedStreams(): Promise<BlockedStream[]>;
  /**
   * Gives up on a station's pending actions (of every partition, or of `options.partition`
   * only): deletes them from the outbox and resolves with them (so the app can keep or show
   * them). Never done automatically. Actions already in flight may still be stored by the
   * station. Later enqueues to those streams start a new producer.
   *
   * @example
   * const dropped = await client.discardStream("deleted-station");
   * for (const b of await client.blockedStreams()) if (b.error.code === "partition_out_of_range") await client.discardStream(b.station, { partition: b.partition });
   */
  discardStream(station: string, options?: { partition?: number }): Promise<PendingAction[]>;
  /** Asks the browser not to evict the outbox (`navigator.storage.persist()`); resolves with its answer. */
  persist(): Promise<boolean>;
  /**
   * The producer id new actions to `station` are sent under (each stream — server, station and
   * partition — has its own; it changes when the station forgot the producer or another writer
   * used it). Partition 0's, unless `partition` is given.
   * Without a station: the database's own id, kept for compatibility (not a wire producer).
   */
  producerId(station?: string, partition?: number): Promise<string>;
  /**
   * A collaborative document: a `Y.Doc` bound to a doc station (`{"kind": "doc"}`), the same one
   * per station until closed. Local edits persist in IndexedDB and go through the outbox, merged
   * while they wait; remote ones arrive over a WebSocket. Needs `import "waystation/doc"` once
   * (client/doc.ts): it brings yjs, which this bundle leaves out.
   *
   * @example
   * import "waystation/doc";
   * const doc = client.doc("notes");
   * await doc.whenLoaded; // the local copy, also offline
   * doc.getText("body").insert(0, "hello");
   * await doc.whenAcknowledged(); // → { offset } once the station stored it
   */
  doc(station: string, options?: DocOptions): WaystationDoc;
  /** Stops syncing and consuming, closes open docs, releases the syncing role and closes the database. */
  close(): Promise<void>;
}
