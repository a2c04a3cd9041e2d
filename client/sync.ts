// The sync state machine of the syncing tab: per stream (url, station, partition), one batch in
// flight, read from the head of the outbox, sent to its partition, and settled only by the
// station's rulings (stored → acked, refused → local dead letter). Everything else — no answer,
// 401/403, 404, 413/422 at the edge (partition_out_of_range too), 429, 5xx, a proxy's page, an
// `unruled` result — leaves the actions where they are, in order, retried with backoff, with the
// reason in status.error. Nothing renumbers: seq_gap below what we sent and seq_conflict move the
// stream to a new producer. The partition count the station answers with is noted for later
// enqueues (outbox/append.ts adopts it). "Online" means the last request got an answer;
// navigator.onLine is only a hint.
import { type ProduceResponse, type ProduceResult, ProduceResponseSchema } from "../shared/messages";
import { backoffDelayMs, type BackoffOptions, monotonicNow } from "./backoff";
import { entryFragment } from "./encode";
import { errorFromPlain, errorFromWire, WaystationError } from "./errors";
import type { AckedEvent, BlockedStream, RejectedEvent, Status } from "./types";
import { notePartitionCount, type StreamRef } from "./outbox/append";
import { type Batch, type BatchLimits, moveRefused, moveToNewProducer, readBatch, type Ruling, settleBatch, wireSeq } from "./outbox/batch";
import type { Connection } from "./outbox/connection";
import { countDeadLetters } from "./outbox/dead-letters";
import { countPending } from "./outbox/queries";
import type { DeadEntry, OutboxEntry } from "./outbox/db";
import type { Transport } from "./transport";

export interface SyncConfig {
  url: string;
  limits: BatchLimits;
  backoff: BackoffOptions;
  syncIntervalMs: number;
  random: () => number;
}

export interface SyncHooks {
  acked(events: AckedEvent[]): void;
  rejected(events: RejectedEvent[]): void;
  /** Counts or state may have changed. */
  changed(): void;
}

interface StreamState {
  ref: StreamRef;
  pending: number;
  draining?: Promise<void>;
  /** Asked to sync while draining: look again before stopping. */
  again: boolean;
  attempt: number;
  /** Monotonic ms (monotonicNow) before which no request is sent. */
  notBefore: number;
  retryAfterUntil: number;
  timer?: ReturnType<typeof setTimeout>;
  /** Send at most this many next (a seq_conflict's index: the ones before it are ours, settle them first). */
  capNext?: number;
  /** Producer moves (seq_gap, seq_conflict) since the last ruling or backoff; bounded so a confused server cannot spin us. */
  moves: number;
  /** Batch bounds now: halved after a timeout or a 413, grown back after each ruling. */
  maxMessages: number;
  maxBytes: number;
  /** Why the last attempt failed, since when (ms since epoch), how many attempts in a row. */
  error?: WaystationError;
  errorSince?: number;
  failures: number;
  /** Refused entries still in the outbox for want of room for their dead letter: skipped, moved later. */
  unmoved: Map<number, { entry: OutboxEntry; error: DeadEntry["error"] }>;
}

/** The HTTP status each refusal code has elsewhere (shared/errors.ts), kept on the dead letter for apps that branch on it. */
const REFUSAL_STATUS: Record<string, number> = { message_too_large: 413 };

/** Producer moves in a row before backing off. */
const MAX_MOVES_IN_A_ROW = 3;

export class SyncEngine {
  private readonly streams = new Map<string, StreamState>();
  private running = false;
  private inFlight = 0;
  /** A failure outside any stream (counting the outbox); null once anything works again. */
  private lastError: WaystationError | null = null;
  private offlineHint = false;
  private deadLetters = 0;
  /** The partition count each station last answered with, as noted in the outbox. */
  private readonly partitionCounts = new Map<string, number>();
  private interval?: ReturnType<typeof setInterval>;

  constructor(
    private readonly conn: Connection,
    private readonly transport: Transport,
    private readonly config: SyncConfig,
    private readonly hooks: SyncHooks,
  ) {}

  /** Starts syncing; resolves when the first pass is over (the service worker syncs one pass at a time). */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.interval = setInterval(() => void this.syncAll(), this.config.syncIntervalMs);
    return this.syncAll();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.interval);
    for (const state of this.streams.values()) clearTimeout(state.timer);
  }

  /** navigator.onLine said offline: show it until a request gets an answer, but keep trying. */
  hintOffline(): void {
    this.offlineHint = true;
    this.hooks.changed();
  }

  /** Try now: forget the backoff (not a server's Retry-After), e.g. on `online` or flush(). */
  async wake(): Promise<void> {
    for (const state of this.streams.values()) {
      state.attempt = 0;
      state.notBefore = state.retryAfterUntil;
    }
    await this.syncAll();
  }

  /**
   * Drains every stream with pending actions; resolves when each stopped (empty or backing off).
   * `recount` first counts the outbox again (start, timer, wake); an enqueue's sync does not, as
   * counting a long outbox costs as much as the enqueues themselves (the counts are kept up to date).
   */
  async syncAll(recount = true): Promise<void> {
    if (!this.running) return;
    try {
      if (recount) {
        const [streams, dead] = await this.conn.run((db) => Promise.all([countPending(db, this.config.url), countDeadLetters(db, this.config.url)]));
        this.deadLetters = dead;
        this.lastError = null;
        for (const { stream, station, partition, pending } of streams) {
          const state = this.stateOf(stream, station, partition);
          state.pending = pending;
          if (pending === 0) this.clearError(state); // discarded, or drained by another tab
        }
        this.hooks.changed();
      }
      await Promise.all([...this.streams].filter(([, s]) => s.pending > 0).map(([stream]) => this.drain(stream)));
    } catch (error) {
      this.fail(error);
    }
  }

  /** An enqueue in some tab added `count` to a stream. */
  noteEnqueued(stream: string, station: string, partition: number, count: number): void {
    this.stateOf(stream, station, partition).pending += count;
    this.hooks.changed();
  }

  /** The app discarded a stream's actions: forget its failure and backoff. */
  forget(stream: string): void {
    const state = this.streams.get(stream);
    if (!state) return;
    state.pending = 0;
    state.unmoved.clear();
    state.attempt = 0;
    state.notBefore = 0;
    this.clearError(state);
    this.hooks.changed();
  }

  status(): Omit<Status, "leader"> {
    const stations: Record<string, number> = {};
    const blocked: BlockedStream[] = [];
    let pending = 0;
    let retryAt: number | undefined;
    let error = this.lastError;
    let errorSince = -Infinity;
    const now = monotonicNow();
    for (const state of this.streams.values()) {
      stations[state.ref.station] = (stations[state.ref.station] ?? 0) + state.pending;
      pending += state.pending;
      if (state.timer !== undefined && state.notBefore > now) retryAt = Math.min(retryAt ?? Infinity, Date.now() + Math.ceil(state.notBefore - now));
      if (!state.error) continue;
      if (state.errorSince! >= errorSince) [error, errorSince] = [state.error, state.errorSince!];
      if (state.error.code !== "network_error") {
        blocked.push({ station: state.ref.station, partition: state.ref.partition, pending: state.pending, error: plain(state.error), since: state.errorSince!, attempts: state.failures });
      }
    }
    const state: Status["state"] =
      this.inFlight > 0 ? "syncing"
      : error?.code === "network_error" || (this.offlineHint && !error) ? "offline"
      : error ? "error"
      : pending > 0 ? "online"
      : "idle";
    const status: Omit<Status, "leader"> = { state, pending, stations, deadLetters: this.deadLetters };
    if (error) status.error = plain(error);
    if (retryAt !== undefined) status.retryAt = retryAt;
    if (blocked.length > 0) status.blocked = blocked;
    return status;
  }

  private stateOf(stream: string, station: string, partition: number): StreamState {
    let state = this.streams.get(stream);
    if (!state) {
      state = {
        ref: { stream, url: this.config.url, station, partition },
        pending: 0,
        again: false,
        attempt: 0,
        notBefore: 0,
        retryAfterUntil: 0,
        moves: 0,
        maxMessages: this.config.limits.maxMessages,
        maxBytes: this.config.limits.maxBytes,
        failures: 0,
        unmoved: new Map(),
      };
      this.streams.set(stream, state);
    }
    return state;
  }

  private drain(stream: string): Promise<void> {
    const state = this.streams.get(stream)!;
    if (state.draining) {
      state.again = true;
      return state.draining;
    }
    state.again = false;
    state.draining = this.drainLoop(state)
      .catch((error) => this.fail(error, state))
      .finally(() => {
        state.draining = undefined;
      });
    return state.draining;
  }

  private async drainLoop(state: StreamState): Promise<void> {
    while (this.running) {
      if (monotonicNow() < state.notBefore) return this.schedule(state);
      if (state.unmoved.size > 0) await this.moveUnmoved(state);
      const limits = { maxMessages: Math.min(state.maxMessages, state.capNext ?? Infinity), maxBytes: state.maxBytes };
      state.capNext = undefined;
      const batch = await this.conn.run((db) => readBatch(db, state.ref, limits, (seq) => state.unmoved.has(seq)));
      if (!this.running) return;
      if (!batch) {
        state.pending = state.unmoved.size;
        this.hooks.changed();
        if (state.again) {
          state.again = false;
          continue;
        }
        return;
      }
      state.again = false;
      const body = produceBody(batch);
      const outcome = await this.send(state.ref.station, body);
      if (!this.running) return; // closed mid-flight: the next syncing tab resends, the station rules once
      if (outcome.ok) {
        if (await this.settle(batch, state, outcome.value)) continue;
        return;
      }
      const error = outcome.error;
      if ((error.code === "seq_gap" || error.code === "seq_conflict") && state.moves < MAX_MOVES_IN_A_ROW) {
        this.answered();
        const moved = await this.resolveSeqError(batch, state, error);
        if (moved === true) continue;
        return this.backOff(state, moved);
      }
      // The station has fewer partitions than this stream was numbered for (deleted and made
      // again smaller): blocked, never dropped; new enqueues route by its count once drained.
      if (error.code === "partition_out_of_range" && typeof error.details.partitions === "number") await this.notePartitions(state, error.details.partitions);
      // Too slow, or too large for something on the way (a proxy's body limit, answering 413):
      // smaller batches may pass where this one cannot.
      if (error.details.timedOut === true || error.status === 413) this.shrink(state, batch, body.length);
      return this.backOff(state, error);
    }
  }

  private async send(station: string, body: string) {
    this.inFlight++;
    this.hooks.changed();
    try {
      return await this.transport.send("POST", `/v1/stations/${encodeURIComponent(station)}/messages`, body, ProduceResponseSchema, { requireProtocol: true });
    } finally {
      this.inFlight--;
    }
  }

  /** The station's partition count, as it answered: kept for the enqueues to come, written only when it changed. */
  private async notePartitions(state: StreamState, partitions: number): Promise<void> {
    if (this.partitionCounts.get(state.ref.station) === partitions) return;
    await this.conn.run((db) => notePartitionCount(db, this.config.url, state.ref.station, partitions));
    this.partitionCounts.set(state.ref.station, partitions);
  }

  /**
   * Applies a 200's rulings. False when the answer is not a ruling for this batch, or left part
   * of it unruled (backing off; what was ruled is settled first).
   */
  private async settle(batch: Batch, state: StreamState, { results, partitions }: ProduceResponse): Promise<boolean> {
    // Assert before writing: one ruling per message, in order, for the wire seqs we sent, made by
    // the partition we sent them to (another partition's ruling is not this stream's).
    const matches = (r: ProduceResult, i: number) => r.seq === wireSeq(batch, batch.entries[i]!) && (r.unruled !== undefined || r.partition === batch.partition);
    const rulings = results.length === batch.entries.length && results.every(matches) ? results.map(toRuling) : [];
    if (rulings.length === 0 || rulings.includes(null)) {
      this.backOff(state, new WaystationError("bad_response", "The results do not rule on the batch's seqs one by one, in its partition", 200));
      return false;
    }
    this.answered();
    if (partitions !== undefined) await this.notePartitions(state, partitions);
    const unruled = results.find((r) => r.unruled !== undefined)?.unruled;
    if (!unruled) this.ruled(state);
    const settled = await this.conn.run((db) => settleBatch(db, batch, rulings as Ruling[], Date.now()));
    if (!settled) return true; // the store changed producer under us: read again (the unruled ones too)
    state.pending = Math.max(0, state.pending - settled.stored.length - settled.refused.length);
    const { station, partition } = state.ref;
    if (settled.stored.length > 0) this.hooks.acked(settled.stored.map(({ entry, ruling }) => ackedEvent(station, partition, entry, ruling)));
    if (settled.refused.length > 0) {
      this.deadLetters += settled.refused.length;
      this.hooks.rejected(settled.refused.map(({ entry, ruling, deadId }) => rejectedEvent(station, partition, entry, ruling.error, deadId)));
    }
    for (const { entry, ruling } of settled.unmoved) state.unmoved.set(entry.seq, { entry, error: ruling.error });
    if (settled.unmoved.length > 0) this.noteStorageFull(state);
    this.hooks.changed();
    if (unruled) {
      // Nothing was decided about these: they wait at the head of the stream and go again, same seqs.
      const { retryAfterSeconds, ...error } = unruled;
      const retryAfterMs = typeof retryAfterSeconds === "number" ? retryAfterSeconds * 1000 : undefined;
      this.backOff(state, errorFromWire({ ...error, unruled: true }, 503, retryAfterMs));
      return false;
    }
    return true;
  }

  /** Refused entries left in the outbox for want of room: try the move again. */
  private async moveUnmoved(state: StreamState): Promise<void> {
    const waiting = [...state.unmoved.values()];
    let ids: (number | null)[];
    try {
      ids = await this.conn.run((db) => moveRefused(db, waiting, Date.now()));
    } catch (error) {
      if ((error as WaystationError).code !== "quota_exceeded") throw error;
      return this.noteStorageFull(state);
    }
    state.unmoved.clear();
    const events: RejectedEvent[] = [];
    waiting.forEach(({ entry, error }, i) => {
      if (ids[i] !== null) events.push(rejectedEvent(state.ref.station, state.ref.partition, entry, error, ids[i]!));
    });
    state.pending = Math.max(0, state.pending - waiting.length);
    this.deadLetters += events.length;
    if (state.error?.code === "quota_exceeded") this.clearError(state);
    if (events.length > 0) this.hooks.rejected(events);
    this.hooks.changed();
  }

  private noteStorageFull(state: StreamState): void {
    if (state.error?.code !== "quota_exceeded") {
      state.error = new WaystationError("quota_exceeded", "Browser storage is full: refused actions wait in the outbox until there is room for their dead letters");
      state.errorSince = Date.now();
    }
  }

  /**
   * seq_gap or seq_conflict, stamped by the station. True when the stream moved to a new producer
   * (or will settle a prefix first); otherwise the error to back off with.
   */
  private async resolveSeqError(batch: Batch, state: StreamState, error: WaystationError): Promise<true | WaystationError> {
    const first = wireSeq(batch, batch.entries[0]!);
    if (error.code === "seq_gap") {
      const expected = error.details.expectedSeq;
      // Below what we sent: the station lost its memory of this producer (deleted and made again).
      // Above or equal: nothing we sent explains it; keep everything and let the app see why.
      if (typeof expected !== "number" || expected >= first) {
        return new WaystationError("seq_gap", `The station expects seq ${String(expected)} of producer ${batch.epoch.producer}, which this outbox never skipped to (sent ${first})`, error.status, error.details);
      }
      state.moves++;
      await this.conn.run((db) => moveToNewProducer(db, batch.stream, batch.epoch, batch.entries[0]!.seq));
      return true;
    }
    const conflicting = error.details.seq;
    const index = typeof conflicting === "number" ? conflicting - first : -1;
    if (!Number.isInteger(index) || index < 0 || index >= batch.entries.length) {
      return new WaystationError("seq_conflict", `seq_conflict names seq ${String(conflicting)}, outside the batch sent (${first}…)`, error.status, error.details);
    }
    state.moves++;
    // The entries before it were this writer's: settle them as duplicates first, then move.
    if (index > 0) state.capNext = index;
    else await this.conn.run((db) => moveToNewProducer(db, batch.stream, batch.epoch, batch.entries[0]!.seq));
    return true;
  }

  /** After a timeout or a 413: send half as much next time (down to one action), so a slow link or a proxy's body limit still lets actions through. */
  private shrink(state: StreamState, batch: Batch, bytes: number): void {
    state.maxMessages = Math.max(1, Math.ceil(batch.entries.length / 2));
    state.maxBytes = Math.max(1, Math.floor(bytes / 2));
  }

  /** The station ruled: the stream is fine again. */
  private ruled(state: StreamState): void {
    state.attempt = 0;
    state.moves = 0;
    state.maxMessages = Math.min(this.config.limits.maxMessages, state.maxMessages * 2);
    state.maxBytes = Math.min(this.config.limits.maxBytes, state.maxBytes * 2);
    if (state.unmoved.size === 0) this.clearError(state);
  }

  private clearError(state: StreamState): void {
    state.error = undefined;
    state.errorSince = undefined;
    state.failures = 0;
  }

  private backOff(state: StreamState, error: WaystationError): void {
    if (!state.error || state.error.code !== error.code) state.errorSince = Date.now();
    state.error = error;
    state.failures++;
    state.attempt++;
    state.moves = 0; // after the wait, seq_gap and seq_conflict may move the producer again
    const delayMs = backoffDelayMs(state.attempt, this.config.backoff, this.config.random, error.retryAfterMs);
    state.notBefore = monotonicNow() + delayMs;
    if (error.retryAfterMs !== undefined) state.retryAfterUntil = state.notBefore;
    this.schedule(state);
    this.hooks.changed();
  }

  private schedule(state: StreamState): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.drain(state.ref.stream);
    }, Math.max(0, state.notBefore - monotonicNow()));
  }

  private answered(): void {
    this.offlineHint = false;
  }

  private fail(error: unknown, state?: StreamState): void {
    const typed = error instanceof WaystationError ? error : new WaystationError("storage_error", String((error as Error)?.message ?? error));
    if (state) return this.backOff(state, typed);
    this.lastError = typed;
    this.hooks.changed();
  }
}

/**
 * The request body: one producer epoch, its wire seqs, each message with its action id, and the
 * partition, always named: the stream was numbered for it, whatever the station's count is now.
 */
function produceBody(batch: Batch): string {
  const messages = batch.entries.map((e) => `{"seq":${wireSeq(batch, e)},${entryFragment(e)}}`);
  return `{"producer":${JSON.stringify(batch.epoch.producer)},"partition":${batch.partition},"messages":[${messages.join(",")}]}`;
}

/** One result as a ruling: unruled, refused, or stored (an offset, the station's DLS, or a duplicate). Null: not a ruling. */
function toRuling(result: ProduceResult): Ruling | null {
  if (result.unruled) return { kind: "unruled" };
  if (result.refused) {
    const { code, message, ...details } = result.refused;
    const status = REFUSAL_STATUS[code] ?? 422;
    return { kind: "refused", duplicate: result.duplicate, error: { code, message, status, details } };
  }
  if (result.offset !== null || result.deadLettered === true || result.duplicate) {
    return { kind: "stored", offset: result.offset, duplicate: result.duplicate, deadLettered: result.deadLettered === true };
  }
  return null;
}

function ackedEvent(station: string, partition: number, entry: OutboxEntry, ruling: Extract<Ruling, { kind: "stored" }>): AckedEvent {
  const event: AckedEvent = { station, partition, seq: entry.seq, offset: ruling.offset, duplicate: ruling.duplicate };
  if (ruling.deadLettered) event.deadLettered = true;
  return event;
}

function rejectedEvent(station: string, partition: number, entry: OutboxEntry, error: DeadEntry["error"], deadLetterId: number): RejectedEvent {
  return { station, partition, seq: entry.seq, code: error.code, error: errorFromPlain(error), deadLetterId };
}

function plain(error: WaystationError): { code: string; message: string; status: number } {
  return { code: error.code, message: error.message, status: error.status };
}
