// The client behind createClient(): wires the outbox, transport, sync engine and leader election,
// relays events between tabs, and implements the calls of the public API.
import { MAX_BATCH_MESSAGES, MAX_PRODUCE_REQUEST_BYTES } from "../shared/limits";
import { MAX_PARTITIONS } from "../shared/partitions";
import { isStationName } from "../shared/names";
import { Emitter } from "./emitter";
import { errorFromPlain, type PlainError, WaystationError } from "./errors";
import type { Client } from "./client-api";
import type { AckedEvent, BlockedStream, ClientEvents, ClientOptions, DeadLetter, PendingAction, RejectedEvent, Station, Status } from "./types";
import { type ChannelMessage, Leader, syncLockName } from "./leader";
import { type Appended, appendActions } from "./outbox/append";
import { Connection } from "./outbox/connection";
import { dropDeadLetter, listDeadLetters, retryDeadLetter } from "./outbox/dead-letters";
import { discardStreams } from "./outbox/batch";
import { currentProducer, listPending } from "./outbox/queries";
import { type DeadEntry, type OutboxEntry, PRODUCER_KEY, newProducerId, parseStreamKey, serverRange, streamKey } from "./outbox/db";
import { StationHandle } from "./station-handle";
import { SyncEngine } from "./sync";
import { Transport } from "./transport";
import type { EncodedAction } from "./encode";
import type { DocOptions, WaystationDoc } from "./collab/doc";
import { docFactory } from "./collab/factory";

const KiB = 1024;
/** Most enqueue() calls sharing one transaction. */
const MAX_GROUP_COMMIT = 500;

interface AppendGroup {
  committing: boolean;
  waiting: { actions: EncodedAction[]; resolve: (appended: Appended[]) => void; reject: (error: unknown) => void }[];
}

export class WaystationClient implements Client {
  readonly url: string;
  readonly conn: Connection;
  readonly transport: Transport;
  private readonly sync: SyncEngine;
  private readonly leader: Leader;
  private readonly emitter = new Emitter<ClientEvents>();
  private readonly stations = new Map<string, StationHandle>();
  private readonly appends = new Map<string, AppendGroup>();
  /** Open collaborative documents by station (client/doc.ts makes them; yjs stays out of this bundle). */
  private readonly docs = new Map<string, WaystationDoc>();
  private readonly flushes = new Map<string, (status: Status) => void>();
  private readonly stopHandles: (() => void)[] = [];
  private current: Status;
  private pokeTimer?: ReturnType<typeof setTimeout>;
  private statusTimer?: ReturnType<typeof setTimeout>;
  private readonly debounceMs: number;
  closed = false;

  constructor(options: ClientOptions) {
    if (!options?.url) throw new WaystationError("invalid_request", "createClient needs a url");
    if (options.token === undefined && !options.getToken) throw new WaystationError("invalid_request", "createClient needs a token or getToken");
    // Absolute, without a trailing slash: the outbox keys its streams by it ("/" and the origin are one server).
    this.url = absoluteUrl(options.url);
    const dbName = options.dbName ?? "waystation";
    this.conn = new Connection(dbName);
    this.debounceMs = options.debounceMs ?? 20;
    this.transport = new Transport({
      url: this.url,
      token: options.token,
      getToken: options.getToken,
      fetch: options.fetch,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      getTokenTimeoutMs: options.getTokenTimeoutMs,
    });
    this.sync = new SyncEngine(
      this.conn,
      this.transport,
      {
        url: this.url,
        limits: {
          maxMessages: clamp(options.maxBatchMessages ?? 500, 1, MAX_BATCH_MESSAGES),
          // Room for the envelope: the server bounds the whole request body.
          maxBytes: clamp(options.maxBatchBytes ?? 1024 * KiB, 1, MAX_PRODUCE_REQUEST_BYTES - 64 * KiB),
        },
        backoff: { baseMs: options.backoffBaseMs ?? 500, maxMs: options.backoffMaxMs ?? 30_000 },
        syncIntervalMs: options.syncIntervalMs ?? 15_000,
        random: Math.random,
      },
      {
        acked: (events) => {
          this.emitAcked(events);
          this.leader.post({ t: "acked", events });
        },
        rejected: (events) => {
          for (const event of events) this.emitter.emit("rejected", event);
          this.leader.post({ t: "rejected", events: events.map(({ station, partition, seq, deadLetterId, error }) => ({ station, partition, seq, deadLetterId, error: plainError(error) })) });
        },
        changed: () => this.leaderChanged(),
      },
    );
    const offline = typeof navigator !== "undefined" && navigator.onLine === false;
    this.current = { state: offline ? "offline" : "idle", pending: 0, stations: {}, deadLetters: 0, leader: false };
    const locks = options.locks === undefined ? (typeof navigator !== "undefined" ? (navigator.locks ?? null) : null) : options.locks;
    this.leader = new Leader(syncLockName(dbName, this.url), locks, {
      lead: () => this.lead(),
      message: (message) => this.hear(message),
    });
    this.leader.start();
    if (!this.leader.isLeader) this.leader.post({ t: "hello" });
    this.listen("online", () => this.leader.isLeader && void this.sync.wake());
    this.listen("offline", () => this.leader.isLeader && this.sync.hintOffline());
    this.listen("visibilitychange", () => this.leader.isLeader && document.visibilityState === "visible" && void this.sync.syncAll());
    if (options.persist) void this.persist();
  }

  get status(): Status {
    return this.current;
  }

  station(name: string): Station {
    if (!isStationName(name)) throw new WaystationError("invalid_name", `Invalid station name: ${name}`);
    let handle = this.stations.get(name);
    if (!handle) this.stations.set(name, (handle = new StationHandle(this, name)));
    return handle;
  }

  on<K extends keyof ClientEvents>(event: K, listener: (event: ClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  async flush(): Promise<Status> {
    this.assertOpen();
    if (this.leader.isLeader) {
      await this.sync.wake();
      return this.current;
    }
    const id = Math.random().toString(36).slice(2);
    return new Promise<Status>((resolve) => {
      const timer = setTimeout(() => done(this.current), 60_000);
      const done = (status: Status) => {
        clearTimeout(timer);
        this.flushes.delete(id);
        resolve(status);
      };
      this.flushes.set(id, done);
      this.leader.post({ t: "flush", id });
    });
  }

  /**
   * Commits the actions of one station, then lets the syncing tab know. Group commit: while one
   * transaction of a station is committing, the enqueues that arrive wait and then share the next
   * one — each still resolves only once its own action is durable, in call order.
   */
  append(station: string, actions: EncodedAction[]): Promise<Appended[]> {
    this.assertOpen();
    let group = this.appends.get(station);
    if (!group) this.appends.set(station, (group = { committing: false, waiting: [] }));
    const queued = group;
    const done = new Promise<Appended[]>((resolve, reject) => queued.waiting.push({ actions, resolve, reject }));
    if (!queued.committing) void this.commitAppends(station, queued);
    return done;
  }

  private async commitAppends(station: string, group: AppendGroup): Promise<void> {
    group.committing = true;
    while (group.waiting.length > 0) {
      const batch = group.waiting.splice(0, MAX_GROUP_COMMIT);
      const actions = batch.flatMap((w) => w.actions);
      try {
        const appended = await this.conn.run((db) => appendActions(db, this.url, station, actions, Date.now()));
        let at = 0;
        for (const w of batch) w.resolve(appended.slice(at, (at += w.actions.length)));
        const perPartition = new Map<number, number>();
        for (const { partition } of appended) perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
        for (const [partition, count] of perPartition) this.noteEnqueued(streamKey(this.url, station, partition), station, partition, count);
      } catch (error) {
        // One transaction: nothing of the group was written, so each of its enqueues fails whole.
        for (const w of batch) w.reject(error);
      }
    }
    group.committing = false;
  }

  async pending(station?: string): Promise<PendingAction[]> {
    this.assertOpen();
    const names = station !== undefined ? [station] : await this.conn.run(async (db) => (await db.getAll("streams", serverRange(this.url))).map((r) => r.station));
    const lists = await Promise.all([...new Set(names)].map((name) => this.conn.run((db) => listPending(db, this.url, name))));
    return lists.flat().map((entry) => toPending(this.streamOf(entry), entry));
  }

  async deadLetters(station?: string): Promise<DeadLetter[]> {
    this.assertOpen();
    const all = await this.conn.run((db) => listDeadLetters(db, this.url));
    return all.filter((d) => station === undefined || this.streamOf(d).station === station).map((d) => toDeadLetter(this.streamOf(d), d));
  }

  async retryDeadLetter(deadLetterId: number): Promise<{ station: string; seq: number; partition: number }> {
    this.assertOpen();
    const retried = await this.conn.run((db) => retryDeadLetter(db, this.url, deadLetterId, Date.now()));
    if (!retried) throw new WaystationError("not_found", `No dead letter ${deadLetterId}`);
    this.noteEnqueued(streamKey(this.url, retried.station, retried.partition), retried.station, retried.partition, 1, true);
    return retried;
  }

  async dropDeadLetter(deadLetterId: number): Promise<void> {
    this.assertOpen();
    await this.conn.run((db) => dropDeadLetter(db, deadLetterId));
    this.recount();
  }

  async blockedStreams(): Promise<BlockedStream[]> {
    this.assertOpen();
    return this.current.blocked ?? [];
  }

  async discardStream(station: string, options: { partition?: number } = {}): Promise<PendingAction[]> {
    this.assertOpen();
    if (!isStationName(station)) throw new WaystationError("invalid_name", `Invalid station name: ${station}`);
    const only = options.partition;
    if (only !== undefined && !(Number.isInteger(only) && only >= 0 && only < MAX_PARTITIONS)) {
      throw new WaystationError("invalid_request", `Not a partition: ${String(only)}`);
    }
    const partitions = only !== undefined ? [only] : Array.from({ length: MAX_PARTITIONS }, (_, p) => p);
    const refs = partitions.map((partition) => ({ stream: streamKey(this.url, station, partition), url: this.url, station, partition }));
    const entries = await this.conn.run((db) => discardStreams(db, refs));
    if (this.leader.isLeader) for (const ref of refs) this.sync.forget(ref.stream);
    this.recount();
    return entries.map((entry) => toPending(this.streamOf(entry), entry));
  }

  async persist(): Promise<boolean> {
    const storage = typeof navigator !== "undefined" ? navigator.storage : undefined;
    if (!storage?.persist) return false;
    return (await storage.persisted?.()) || storage.persist();
  }

  async producerId(station?: string, partition = 0): Promise<string> {
    if (station !== undefined) {
      if (!isStationName(station)) throw new WaystationError("invalid_name", `Invalid station name: ${station}`);
      if (!(Number.isInteger(partition) && partition >= 0 && partition < MAX_PARTITIONS)) throw new WaystationError("invalid_request", `Not a partition: ${partition}`);
      const stream = streamKey(this.url, station, partition);
      const current = await this.conn.run((db) => currentProducer(db, stream));
      if (current !== undefined) return current;
      // No action enqueued yet: make the stream now, so the answer is the producer it will use.
      await this.conn.run((db) => appendActions(db, this.url, station, [], Date.now(), partition));
      return (await this.conn.run((db) => currentProducer(db, stream)))!;
    }
    return this.conn.run(async (db) => {
      const tx = db.transaction("meta", "readwrite");
      let producer = await tx.store.get(PRODUCER_KEY);
      if (!producer) await tx.store.put((producer = newProducerId()), PRODUCER_KEY);
      await tx.done;
      return producer;
    });
  }

  doc(station: string, options: DocOptions = {}): WaystationDoc {
    this.assertOpen();
    if (!isStationName(station)) throw new WaystationError("invalid_name", `Invalid station name: ${station}`);
    let doc = this.docs.get(station);
    if (!doc) {
      const open = docFactory();
      if (!open) throw new WaystationError("invalid_request", 'client.doc() needs the doc module: import "waystation/doc" (client/doc.ts) once');
      doc = open(this, station, options, () => this.docs.delete(station));
      this.docs.set(station, doc);
    }
    return doc;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.docs.values()].map((doc) => doc.close()));
    this.closed = true;
    clearTimeout(this.pokeTimer);
    clearTimeout(this.statusTimer);
    for (const stop of this.stopHandles) stop();
    await Promise.all([...this.stations.values()].map((s) => s.stopConsumers()));
    this.sync.stop();
    this.leader.close();
    this.conn.close();
    for (const done of this.flushes.values()) done(this.current);
  }

  assertOpen(): void {
    if (this.closed) throw new WaystationError("closed", "This client was closed");
  }

  private streamOf(entry: OutboxEntry): { station: string; partition: number } {
    return parseStreamKey(this.url, entry.stream);
  }

  /** Tells the syncing tab (maybe this one) of new actions; `recount` when dead letters changed too. */
  private noteEnqueued(stream: string, station: string, partition: number, count: number, recount = false): void {
    if (this.leader.isLeader) {
      this.sync.noteEnqueued(stream, station, partition, count);
      if (recount) void this.sync.syncAll();
      else this.poke();
      return;
    }
    this.leader.post({ t: "enqueued", stream, station, partition, count, recount });
    const stations = { ...this.current.stations, [station]: (this.current.stations[station] ?? 0) + count };
    this.setStatus({ ...this.current, pending: this.current.pending + count, stations });
  }

  /** The dead letters changed: the syncing tab counts everything again. */
  private recount(): void {
    if (this.leader.isLeader) void this.sync.syncAll();
    else this.leader.post({ t: "recount" });
  }

  /** Sync soon: the first enqueue of a burst schedules it, the rest of the burst rides along. */
  private poke(): void {
    if (this.pokeTimer !== undefined) return;
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = undefined;
      void this.sync.syncAll(false);
    }, this.debounceMs);
  }

  private lead(): void {
    if (this.closed) return;
    void this.sync.start();
    this.leaderChanged();
    // flush() called before this tab got the lock (e.g. right after createClient): answer it now.
    if (this.flushes.size > 0) {
      const waiting = [...this.flushes.values()];
      void this.sync.wake().then(() => waiting.forEach((done) => done(this.current)));
    }
  }

  private leaderChanged(): void {
    if (!this.leader.isLeader) return;
    if (!this.setStatus({ ...this.sync.status(), leader: true }) || this.statusTimer !== undefined) return;
    // Other tabs get the latest status at most every 50 ms: a burst of enqueues changes it each time.
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      if (this.leader.isLeader) this.leader.post({ t: "status", status: this.current });
    }, 50);
  }

  private setStatus(status: Status): boolean {
    if (JSON.stringify(status) === JSON.stringify(this.current)) return false;
    this.current = status;
    this.emitter.emit("status", status);
    return true;
  }

  private emitAcked(events: AckedEvent[]): void {
    for (const event of events) this.emitter.emit("acked", event);
  }

  private hear(message: ChannelMessage): void {
    if (this.closed) return;
    if (this.leader.isLeader) {
      if (message.t === "enqueued") {
        this.sync.noteEnqueued(message.stream, message.station, message.partition, message.count);
        // A hidden syncing tab's timers are throttled (≥ 1 s, or a minute): sync from the message itself.
        if (message.recount) void this.sync.syncAll();
        else if (globalThis.document?.visibilityState === "hidden") void this.sync.syncAll(false);
        else this.poke();
      } else if (message.t === "recount") {
        void this.sync.syncAll();
      } else if (message.t === "flush") {
        void this.sync.wake().then(() => this.leader.post({ t: "flushed", id: message.id, status: this.current }));
      } else if (message.t === "hello") {
        this.leader.post({ t: "status", status: this.current });
      }
      return; // a second syncing tab (no Web Locks) reports its own events
    }
    if (message.t === "status") this.setStatus({ ...message.status, leader: false });
    else if (message.t === "acked") this.emitAcked(message.events);
    else if (message.t === "rejected") {
      for (const e of message.events) {
        const event: RejectedEvent = { station: e.station, partition: e.partition, seq: e.seq, code: e.error.code, error: errorFromPlain(e.error), deadLetterId: e.deadLetterId };
        this.emitter.emit("rejected", event);
      }
    } else if (message.t === "flushed") {
      this.setStatus({ ...message.status, leader: false });
      this.flushes.get(message.id)?.({ ...message.status, leader: false });
    }
  }

  private listen(type: string, listener: () => void): void {
    const target = (type === "visibilitychange" ? globalThis.document : globalThis) as Partial<EventTarget> | undefined;
    if (!target?.addEventListener || !target.removeEventListener) return;
    target.addEventListener(type, listener);
    const remove = target.removeEventListener.bind(target);
    this.stopHandles.push(() => remove(type, listener));
  }
}

function plainError(error: WaystationError): PlainError {
  return { code: error.code, message: error.message, status: error.status, details: error.details };
}

function toPending({ station, partition }: { station: string; partition: number }, entry: OutboxEntry): PendingAction {
  const action: PendingAction = { station, partition, seq: entry.seq, body: JSON.parse(entry.body), enqueuedAt: entry.enqueuedAt };
  if (entry.headers) action.headers = entry.headers;
  if (entry.key !== undefined) action.key = entry.key;
  if (entry.id !== undefined) action.id = entry.id;
  return action;
}

function toDeadLetter(station: { station: string; partition: number }, entry: DeadEntry): DeadLetter {
  return { ...toPending(station, entry), deadLetterId: entry.deadId!, error: errorFromPlain(entry.error), failedAt: entry.failedAt };
}

function absoluteUrl(url: string): string {
  try {
    return new URL(url, globalThis.location?.href).href.replace(/\/+$/, "");
  } catch {
    throw new WaystationError("invalid_request", `Not a URL: ${url}`);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}
