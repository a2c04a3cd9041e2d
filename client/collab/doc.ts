// A Y.Doc bound to a doc station: local edits saved in IndexedDB at once, handed to the outbox
// (merged while an action waits, split to fit), remote updates from the doc link; what the
// station lacks (a refused or lost edit) is found on each catch-up and sent again.
import * as Y from "yjs";
import { encodeBinaryBody } from "../../shared/binary";
import { MAX_MESSAGE_BYTES_LIMIT } from "../../shared/limits";
import type { ClientCore } from "../client-core";
import { encodeAction, type EncodedAction } from "../encode";
import type { WaystationErrorCode } from "../errors";
import type { RejectedEvent } from "../types";
import { DocAwareness } from "./awareness";
import { DocLink, type LinkState } from "./link";
import { splitUpdate, updateBytesFor } from "./split";
import * as store from "./store";

/** Local edits merged into one outbox action hold at most this many update bytes (base64 adds a third). */
const MAX_ACTION_UPDATE_BYTES = 256 * 1024;
/** No station takes a message larger than this: a value over it can never be sent. */
const MAX_UPDATE_BYTES = updateBytesFor(MAX_MESSAGE_BYTES_LIMIT);
/** Rounds of refusals (no ack between them) after which the doc stops re-sending until `reconnect()`. */
const MAX_REFUSALS_IN_A_ROW = 12;
/** Guessing a limit the station does not state, the doc goes no lower than this many update bytes. */
const MIN_GUESSED_UPDATE_BYTES = 1024;
/** The local store keeps this many update records per doc before folding them into one. */
const MAX_STORED_UPDATES = 200;
/** Waiting local edits are merged into one record beyond this many. */
const MAX_PENDING_RECORDS = 64;
/** Edits of a burst (typing) ride together to the outbox. */
const HANDOFF_DEBOUNCE_MS = 30;

/** Options of `client.doc()`. */
export interface DocOptions {
  /** `auto` (default): WebSocket for live updates and awareness, polling while it cannot connect; `poll`: HTTP only. */
  transport?: "auto" | "poll";
  /** Catch-up interval without a socket; default 5,000 ms. */
  pollIntervalMs?: number;
  /** The WebSocket class (tests, or Node < 22); `null`: never open one. Default: the global one. */
  webSocket?: typeof WebSocket | null;
}

/** Where a document stands; see {@link WaystationDoc.status}. */
export interface DocStatus {
  /** How the doc hears the station: `websocket`, `poll`, `offline` (retrying), `connecting`, `closed`. */
  connection: LinkState;
  /** Local edits not yet in IndexedDB (lost if the page dies now). Usually 0 within milliseconds. */
  unsaved: number;
  /**
   * 0 once every local edit is acknowledged by the station; otherwise how many merged records
   * and outbox actions still wait (edits merge, so this is not a count of keystrokes), plus one
   * after a refusal until the station holds the refused content.
   */
  unacknowledged: number;
  /** The highest offset the station gave one of our edits: every acknowledged edit is at or below it. */
  acknowledgedOffset: number | null;
  /** The station offset this copy has caught up with (it holds every update up to it). */
  serverOffset: number;
  /**
   * Why the last catch-up failed (`network_error` offline, `not_a_doc`, `station_not_found`,
   * `forbidden`…), until one works (they are retried with backoff). Otherwise the last edit the
   * station refused (`message_too_large`, `invalid_doc_update`; `seq` is its action's), kept
   * until the doc is closed: the doc sends the refused content again in pieces the station
   * takes, but the refused action itself is never acknowledged.
   */
  error?: DocError;
}

/** See {@link DocStatus.error}. A plain object (it crosses `postMessage` and JSON whole). */
export interface DocError {
  /** The station's code for a refusal (`message_too_large`, `invalid_doc_update`), else the SDK's. */
  code: WaystationErrorCode;
  message: string;
  /** HTTP status, or 0 when decided in the browser. */
  status: number;
  /** For a refusal: the seq of the refused action. */
  seq?: number;
}

const LOAD = Symbol("load");
/** Origin of the transaction removing a value no station can take (see `dropUnsendable`). */
const UNSENDABLE = Symbol("unsendable");

export class WaystationDoc extends Y.Doc {
  readonly station: string;
  /** Cursors and presence of everyone in the doc; over the socket only, never stored. */
  readonly awareness: DocAwareness;
  private readonly key: string;
  private readonly db: Promise<store.DocDB>;
  private readonly link: DocLink;
  private readonly listeners = new Set<(status: DocStatus) => void>();
  private current: DocStatus;
  /** IndexedDB writes, in order: a local edit is stored before the next one. */
  private writes: Promise<void> = Promise.resolve();
  private handoff: Promise<void> | null = null;
  private handoffAgain = false;
  private handoffTimer: ReturnType<typeof setTimeout> | undefined;
  private storedSinceFold = 0;
  private closed = false;
  private readonly stopAcked: () => void;
  private readonly stopRejected: () => void;
  /** The last catch-up's failure and the last refusal: `status.error` shows the first set. */
  private linkError: DocError | undefined;
  private refusal: DocError | undefined;
  /** Bumped by each refusal: a `whenAcknowledged()` begun before it never resolves. */
  private refusals = 0;
  /** Refusal rounds (a hand-off's actions refused at one limit) with no ack between them. */
  private refusalsInARow = 0;
  /** The update-bytes limit each of our actions in flight was cut to, by seq: one refusal round per limit. */
  private readonly limitOfSeq = new Map<number, number>();
  private readonly ackWaiters = new Set<() => void>();
  /** Most update bytes the station took, learned from a `message_too_large` refusal. */
  private stationMaxUpdateBytes: number | null = null;
  /**
   * After a refusal, until a catch-up shows the station holds all we have: the refused content
   * still has to go, so it counts as one unacknowledged edit.
   */
  private repairDue = false;
  private repairing = false;
  private stationStateTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: ClientCore,
    station: string,
    options: DocOptions,
    private readonly onClose: () => void,
  ) {
    super({ gc: true });
    this.station = station;
    this.key = `${client.url} ${station}`;
    this.current = { connection: "connecting", unsaved: 0, unacknowledged: 0, acknowledgedOffset: null, serverOffset: 0 };
    this.db = store.openDocDB(`${client.conn.name}-docs`);
    this.db.catch(() => {}); // reported by the writes that need it
    this.awareness = new DocAwareness(this.clientID, (state) => this.link.sendAwareness(state));
    this.link = new DocLink(
      {
        url: client.url,
        station,
        transport: client.transport,
        mode: options.transport ?? "auto",
        pollIntervalMs: options.pollIntervalMs ?? 5_000,
        webSocket: options.webSocket === undefined ? (globalThis.WebSocket ?? null) : options.webSocket,
      },
      {
        stateVector: () => Y.encodeStateVector(this),
        remote: (update, offset) => this.applyRemote(update, offset),
        awareness: (states) => this.awareness.applyRemote(states),
        synced: (synced) => this.emit("sync", [synced, this]),
        stationState: (stateVector, offset) => void this.repair(stateVector, offset),
        error: (error) => {
          this.linkError = error ? { code: error.code, message: error.message, status: error.status } : undefined;
          this.publishError();
        },
        state: (connection) => {
          if (connection === "websocket") this.link.sendAwareness(this.awareness.localFrame());
          if (connection !== "websocket") this.awareness.forgetOthers();
          this.setStatus({ connection });
        },
      },
    );
    this.on("update", (update: Uint8Array, origin: unknown) => this.onUpdate(update, origin));
    this.stopAcked = client.on("acked", (event) => {
      if (event.station !== station || this.closed) return;
      if (event.offset !== null) this.setStatus({ acknowledgedOffset: Math.max(event.offset, this.current.acknowledgedOffset ?? 0) });
      this.refusalsInARow = 0;
      this.limitOfSeq.delete(event.seq);
      this.scheduleHandoff(0);
    });
    this.stopRejected = client.on("rejected", (event) => this.onRefused(event));
    void this.loadLocal();
  }

  /** Where the doc stands now: connection, unsaved and unacknowledged edits, offsets. */
  get status(): DocStatus {
    return this.current;
  }

  /** Listens to status changes; returns the unsubscribe. */
  onStatus(listener: (status: DocStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every local edit made so far is committed to IndexedDB. */
  async whenSaved(): Promise<void> {
    await this.writes;
  }

  /**
   * Resolves once every local edit made so far is acknowledged by the station, with the offset
   * that covers them. Waits through offline periods; reject it yourself with a timeout if needed.
   * It never resolves if it covers an edit the station refused: one refused while this waits,
   * or one whose content is still on its way again when this is called (`status.error` says
   * why; `status.unacknowledged` counts it). Once a catch-up showed the station holds that
   * content, later calls resolve as usual.
   */
  async whenAcknowledged(): Promise<{ offset: number | null }> {
    const refusals = this.refusals;
    if (this.repairDue) return new Promise(() => {});
    await this.writes;
    await this.refreshCounts();
    if (this.refusals !== refusals || this.repairDue) return new Promise(() => {});
    if (this.current.unacknowledged === 0 && this.current.unsaved === 0) return { offset: this.current.acknowledgedOffset };
    return new Promise((resolve) => {
      const listening = this.onStatus((status) => {
        if (status.unacknowledged === 0 && status.unsaved === 0) {
          stop();
          resolve({ offset: status.acknowledgedOffset });
        }
      });
      const stop = () => {
        listening();
        this.ackWaiters.delete(stop);
      };
      this.ackWaiters.add(stop);
    });
  }

  /** Catch up with the station now (also done on reconnect and on the browser's `online`). */
  reconnect(): void {
    this.refusalsInARow = 0;
    this.link.reconnectNow();
  }

  /** Stops syncing after the local writes finished; edits already in the outbox still go out. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.handoffTimer);
    clearTimeout(this.stationStateTimer);
    this.stopAcked();
    this.stopRejected();
    this.link.close();
    this.awareness.destroy();
    await this.writes.catch(() => {});
    await this.handoff?.catch(() => {});
    (await this.db.catch(() => null))?.close();
    this.onClose();
  }

  private async loadLocal(): Promise<void> {
    try {
      const db = await this.db;
      const loaded = await store.loadDoc(db, this.key);
      const updates = [...loaded.updates, ...loaded.pending].map((r) => r.update);
      if (updates.length > 0) Y.applyUpdate(this, Y.mergeUpdates(updates), LOAD);
      this.setStatus({
        serverOffset: Math.max(this.current.serverOffset, loaded.meta.serverOffset),
        acknowledgedOffset: loaded.meta.acknowledgedOffset,
      });
      if (loaded.updates.length > MAX_STORED_UPDATES) this.queueWrite(() => this.foldStored());
      await this.refreshCounts();
    } catch (error) {
      console.error("waystation: could not load the local copy of", this.station, error);
    }
    if (this.closed) return;
    this.emit("load", [this]);
    this.link.start();
    this.scheduleHandoff(0); // edits a previous session left waiting
  }

  private onUpdate(update: Uint8Array, origin: unknown): void {
    if (origin === LOAD || this.closed) return;
    if (origin === this.link) {
      this.queueWrite(async (db) => store.storeRemote(db, this.key, update, this.localMeta()));
      return;
    }
    this.setStatus({ unsaved: this.current.unsaved + 1, unacknowledged: this.current.unacknowledged + 1 });
    this.queueWrite(async (db) => {
      try {
        await store.storeLocalEdit(db, this.key, update);
      } finally {
        this.setStatus({ unsaved: this.current.unsaved - 1 });
      }
      this.scheduleHandoff(HANDOFF_DEBOUNCE_MS);
    });
  }

  private applyRemote(update: Uint8Array, offset: number): void {
    if (this.closed) return;
    const before = this.current.serverOffset;
    if (offset > before) this.setStatus({ serverOffset: offset });
    Y.applyUpdate(this, update, this.link);
    // An update we already held changes nothing (no "update" event): still remember the offset.
    if (offset > before) this.queueWrite(async (db) => store.storeMeta(db, this.localMeta()));
  }

  private localMeta(): store.DocMeta {
    return { doc: this.key, serverOffset: this.current.serverOffset, acknowledgedOffset: this.current.acknowledgedOffset };
  }

  private queueWrite(write: (db: store.DocDB) => Promise<void>): void {
    this.writes = this.writes
      .then(async () => {
        await write(await this.db);
        if (++this.storedSinceFold >= MAX_STORED_UPDATES) await this.foldStored();
      })
      .catch((error) => console.error("waystation: could not store an update of", this.station, error));
  }

  /** Folds the stored updates into one: the doc's whole state holds every one of them. */
  private async foldStored(): Promise<void> {
    this.storedSinceFold = 0;
    const db = await this.db;
    const { count, lastId } = await store.countUpdates(db, this.key);
    if (count > 1) await store.compactUpdates(db, this.key, Y.encodeStateAsUpdate(this), lastId);
  }

  private scheduleHandoff(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.handoffTimer);
    this.handoffTimer = setTimeout(() => void this.handOff(), delayMs);
  }

  /** Moves waiting edits to the outbox, one run at a time. */
  private handOff(): Promise<void> {
    if (this.handoff) {
      this.handoffAgain = true;
      return this.handoff;
    }
    this.handoff = (async () => {
      do {
        this.handoffAgain = false;
        await this.moveToOutbox();
      } while (this.handoffAgain && !this.closed);
    })()
      .catch((error) => console.error("waystation: could not queue the edits of", this.station, error))
      .finally(() => (this.handoff = null));
    return this.handoff;
  }

  /**
   * One hand-off per doc at a time: if an action is still waiting for its ack, the edits stay
   * here and merge; else they go, merged (or split) into actions that fit. The outbox commits
   * before the pending records are dropped: a crash in between sends an update twice, which
   * yjs ignores.
   */
  private async moveToOutbox(): Promise<void> {
    if (this.closed) return;
    const db = await this.db;
    const queued = (await this.client.pending(this.station)).length;
    const records = await store.readPending(db, this.key);
    if (queued > 0 || records.length === 0) {
      if (records.length > MAX_PENDING_RECORDS) await this.foldPending(db, records);
      return this.refreshCounts(queued, records.length);
    }
    const limit = this.actionBytes();
    const actions = this.actionsFor(records.map((r) => r.update), limit);
    if (actions === null) return; // a value was removed (see dropUnsendable): its record comes next
    // A doc station has one partition: its seqs alone name its actions.
    if (actions.length > 0) for (const { seq } of await this.client.append(this.station, actions)) this.limitOfSeq.set(seq, limit);
    await store.dropPending(db, records.map((r) => r.id!));
    await this.refreshCounts();
  }

  /**
   * The waiting edits as outbox actions of at most `actionBytes()` each: merged while small,
   * split when large (client/collab/split.ts). A single value larger than any message the station
   * takes is removed from the document instead (null: hand off again).
   */
  private actionsFor(updates: Uint8Array[], limit: number): EncodedAction[] | null {
    const most = this.stationMaxUpdateBytes ?? MAX_UPDATE_BYTES;
    const pieces: Uint8Array[] = [];
    const unsendable: { client: number; clock: number; bytes: number }[] = [];
    for (const merged of mergeUpTo(updates, limit)) {
      // Another tab's edits wait in the same store: hold them here too, so they can be cut.
      Y.applyUpdate(this, merged, LOAD);
      const split = splitUpdate(this, merged, limit);
      unsendable.push(...split.oversized.filter((value) => value.bytes > most));
      for (const piece of split.pieces) {
        if (piece.byteLength <= MAX_UPDATE_BYTES) pieces.push(piece);
        // Uncut (this copy lacks what it builds on) and too large to queue: say so; the repair
        // sends it once this copy holds what it needs.
        else this.setRefusal({ code: "message_too_large", message: `An update of ${piece.byteLength} bytes could not be cut to fit a message; it waits until this copy can`, status: 0 });
      }
    }
    if (unsendable.length > 0 && this.dropUnsendable(unsendable, most)) return null;
    return pieces.map((piece) => encodeAction(encodeBinaryBody(piece)));
  }

  /** Update bytes per action: 256 KiB, or less once the station said it takes less. */
  private actionBytes(): number {
    return Math.min(MAX_ACTION_UPDATE_BYTES, this.stationMaxUpdateBytes ?? MAX_ACTION_UPDATE_BYTES);
  }

  /**
   * A value (an embedded file, a huge JSON value) that no message the station takes can hold:
   * it would never reach the station, and every later edit of this copy would wait behind it on
   * the other copies (yjs applies a client's edits in order). It is deleted here, which turns it
   * into a small tombstone every copy can apply; `status.error` says so. True if one was deleted.
   */
  private dropUnsendable(values: { client: number; clock: number; bytes: number }[], most: number): boolean {
    let dropped = false;
    this.transact((transaction) => {
      for (const { client, clock } of values) {
        if (clock >= Y.getState(this.store, client)) continue;
        const id = Y.createID(client, clock);
        const item = Y.getItemCleanStart(transaction, id);
        if (!(item instanceof Y.Item) || item.deleted) continue;
        Y.getItemCleanEnd(transaction, this.store, id);
        item.delete(transaction);
        dropped = true;
      }
    }, UNSENDABLE);
    const largest = Math.max(...values.map((value) => value.bytes));
    this.setRefusal({
      code: "message_too_large",
      message: `A value of ${largest} bytes is larger than any message the station takes (${most} update bytes): it was removed from the document so that every copy stays the same`,
      status: 0,
    });
    return dropped;
  }

  private setRefusal(error: DocError): void {
    this.refusal = error;
    this.publishError();
  }

  /**
   * The station refused one of our actions (it holds none of it, and never will under that seq).
   * Promises of `whenAcknowledged()` waiting now never resolve; the error shows on the status;
   * later edits go on; once nothing is in flight, a catch-up finds what the station lacks and
   * sends it again — in smaller pieces if it was too large.
   */
  private onRefused(event: RejectedEvent): void {
    if (event.station !== this.station || this.closed) return;
    const details = event.error?.details ?? {};
    this.refusals += 1;
    const limitUsed = this.limitOfSeq.get(event.seq);
    this.limitOfSeq.delete(event.seq);
    // The other actions of a round already refused (the limit went down since they were cut) count once.
    const sameRound = limitUsed !== undefined && limitUsed > this.actionBytes();
    if (!sameRound) this.refusalsInARow += 1;
    const code = (event.error?.code ?? event.code) as WaystationErrorCode;
    this.refusal = { code, message: event.error?.message ?? code, status: event.error?.status ?? 0, seq: event.seq };
    if (code === "message_too_large" && typeof details.maxMessageBytes === "number") {
      this.lowerLimit(updateBytesFor(details.maxMessageBytes));
    } else if (code === "message_too_large" && !sameRound) {
      // A server that does not state its limit: half the refused message, or half the limit it was cut to.
      const guess = typeof details.bytes === "number" ? updateBytesFor(details.bytes) / 2 : (limitUsed ?? this.actionBytes()) / 2;
      this.lowerLimit(Math.max(MIN_GUESSED_UPDATE_BYTES, Math.floor(guess)));
    }
    for (const stop of [...this.ackWaiters]) stop();
    this.repairDue = true;
    this.publishError();
    void this.refreshCounts();
    this.scheduleHandoff(0);
  }

  private lowerLimit(updateBytes: number): void {
    this.stationMaxUpdateBytes = Math.max(1, Math.min(this.stationMaxUpdateBytes ?? updateBytes, updateBytes));
  }

  /**
   * Sync step 2 of y-protocols, through the outbox: after a catch-up, if nothing of ours is in
   * flight and the answer covers every ack we got, whatever our state vector has beyond the
   * station's is missing there (a refused or lost edit). It becomes a waiting edit — our diff
   * against the station's state vector — and goes out like any other, split to fit.
   */
  private async repair(stationVector: Uint8Array, offset: number): Promise<void> {
    if (this.closed || this.repairing || this.refusalsInARow >= MAX_REFUSALS_IN_A_ROW) return;
    this.repairing = true;
    try {
      // The common case, and cheap: the station holds everything this copy has.
      if (!aheadOf(Y.encodeStateVector(this), stationVector)) {
        if (this.repairDue) {
          this.repairDue = false;
          await this.refreshCounts();
        }
        return;
      }
      await this.writes;
      if (this.handoff || this.current.unsaved > 0 || offset < (this.current.acknowledgedOffset ?? 0)) {
        // A race with our own edits or acks: look again shortly (the next ack would not ask).
        if (this.repairDue) this.askStationState(1_000);
        return;
      }
      const db = await this.db;
      const [queued, waiting] = await Promise.all([this.client.pending(this.station), store.countPending(db, this.key)]);
      if (this.closed || queued.length > 0 || waiting > 0) return; // their acks ask again
      await store.addPending(db, this.key, Y.diffUpdate(Y.encodeStateAsUpdate(this), stationVector));
      this.scheduleHandoff(0);
    } catch (error) {
      console.error("waystation: could not repair", this.station, error);
    } finally {
      this.repairing = false;
    }
  }

  /** Catches up (soon) to learn the station's state vector; one request at a time. */
  private askStationState(delayMs = 0): void {
    if (this.closed || this.stationStateTimer !== undefined) return;
    this.stationStateTimer = setTimeout(() => {
      this.stationStateTimer = undefined;
      if (!this.closed) void this.link.catchUp();
    }, delayMs);
  }

  private publishError(): void {
    const error = this.linkError ?? this.refusal;
    if (JSON.stringify(error) !== JSON.stringify(this.current.error)) this.setStatus({ error });
  }

  /** Merges many waiting edits into one record (same content, fewer rows to read later). */
  private async foldPending(db: store.DocDB, records: store.UpdateRecord[]): Promise<void> {
    const merged = Y.mergeUpdates(records.map((r) => r.update));
    await store.replacePending(db, this.key, merged, records.map((r) => r.id!));
  }

  private async refreshCounts(queued?: number, waiting?: number): Promise<void> {
    if (this.closed) return;
    const db = await this.db;
    const [q, w] = await Promise.all([
      queued ?? this.client.pending(this.station).then((p) => p.length),
      waiting ?? store.countPending(db, this.key),
    ]);
    if (this.closed) return; // closed meanwhile: its database may be gone
    this.setStatus({ unacknowledged: q + w + this.current.unsaved + (this.repairDue ? 1 : 0) });
    if (q + w === 0) this.queueWrite(async (db) => store.storeMeta(db, this.localMeta()));
    // Idle after a refusal: learn what the station lacks (the answer triggers the repair).
    if (q + w === 0 && this.repairDue && !this.repairing) this.askStationState();
  }

  private setStatus(change: Partial<DocStatus>): void {
    const next = { ...this.current, ...change };
    if (JSON.stringify(next) === JSON.stringify(this.current)) return;
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }
}

/** Merges edits into updates of at most `limit` bytes (an edit larger than that stays alone, to be split). */
function mergeUpTo(updates: Uint8Array[], limit: number): Uint8Array[] {
  const merged: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let bytes = 0;
  const flush = () => {
    if (group.length > 0) merged.push(group.length === 1 ? group[0]! : Y.mergeUpdates(group));
    group = [];
    bytes = 0;
  };
  for (const update of updates) {
    if (bytes + update.byteLength > limit) flush();
    group.push(update);
    bytes += update.byteLength;
  }
  flush();
  return merged;
}

/** True if state vector `ours` holds a clock beyond `theirs` (they lack structs we have). */
function aheadOf(ours: Uint8Array, theirs: Uint8Array): boolean {
  const station = Y.decodeStateVector(theirs);
  for (const [client, clock] of Y.decodeStateVector(ours)) if (clock > (station.get(client) ?? 0)) return true;
  return false;
}
