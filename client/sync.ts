// The sync state machine of the syncing tab: per stream, one batch in flight, read from the head
// of the outbox, sent, then acknowledged, dead-lettered, renumbered (seq_gap) or retried with
// backoff. "Online" means the last request got an answer; navigator.onLine is only a hint.
import type { ErrorCode } from "../shared/errors";
import { ProduceResponseSchema } from "../shared/messages";
import { backoffDelayMs, type BackoffOptions } from "./backoff";
import { messageFragment } from "./encode";
import { WaystationError } from "./errors";
import type { AckedEvent, RejectedEvent, Status } from "./index";
import { type Batch, type BatchLimits, deadLetterHead, readBatch, removeAcked, resumeAt } from "./outbox/batch";
import type { Connection } from "./outbox/connection";
import { countDeadLetters } from "./outbox/dead-letters";
import { countPending } from "./outbox/queries";
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
  station: string;
  pending: number;
  draining?: Promise<void>;
  /** Asked to sync while draining: look again before stopping. */
  again: boolean;
  attempt: number;
  notBefore: number;
  retryAfterUntil: number;
  timer?: ReturnType<typeof setTimeout>;
  /** After a batch was refused for good without saying which message: send one at a time up to here. */
  probeUntil: number;
  /** Send at most this many next (the refused message's index: the ones before it are fine). */
  capNext?: number;
  /** seq_gap answers in a row; bounded so a confused server cannot spin us. */
  gaps: number;
}

/** Codes that refuse the station or the caller, not one message: the whole batch is dead-lettered. */
// Literals typed by ErrorCode rather than the ErrorCode object: the bundle then carries only these.
const STATION_WIDE = new Set<ErrorCode>(["station_not_found", "not_found", "forbidden", "invalid_name", "method_not_allowed", "unsupported_media_type"]);
const MAX_GAPS_IN_A_ROW = 3;

export class SyncEngine {
  private readonly streams = new Map<string, StreamState>();
  private running = false;
  private inFlight = 0;
  /** null: the last request got an answer. */
  private lastError: WaystationError | null = null;
  private offlineHint = false;
  private deadLetters = 0;
  private interval?: ReturnType<typeof setInterval>;

  constructor(
    private readonly conn: Connection,
    private readonly transport: Transport,
    private readonly config: SyncConfig,
    private readonly hooks: SyncHooks,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.interval = setInterval(() => void this.syncAll(), this.config.syncIntervalMs);
    void this.syncAll();
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
        for (const { record, pending } of streams) this.stateOf(record.stream, record.station).pending = pending;
        this.hooks.changed();
      }
      await Promise.all([...this.streams].filter(([, s]) => s.pending > 0).map(([stream]) => this.drain(stream)));
    } catch (error) {
      this.fail(error);
    }
  }

  /** An enqueue in some tab added `count` to a stream. */
  noteEnqueued(stream: string, station: string, count: number): void {
    this.stateOf(stream, station).pending += count;
    this.hooks.changed();
  }

  status(): Omit<Status, "leader"> {
    const stations: Record<string, number> = {};
    let pending = 0;
    let retryAt: number | undefined;
    for (const state of this.streams.values()) {
      stations[state.station] = state.pending;
      pending += state.pending;
      if (state.timer !== undefined && state.notBefore > Date.now()) retryAt = Math.min(retryAt ?? Infinity, state.notBefore);
    }
    const error = this.lastError;
    const state: Status["state"] =
      this.inFlight > 0 ? "syncing"
      : error?.code === "network_error" || (this.offlineHint && !error) ? "offline"
      : error ? "error"
      : pending > 0 ? "online"
      : "idle";
    const status: Omit<Status, "leader"> = { state, pending, stations, deadLetters: this.deadLetters };
    if (error) status.error = { code: error.code, message: error.message, status: error.status };
    if (retryAt !== undefined) status.retryAt = retryAt;
    return status;
  }

  private stateOf(stream: string, station: string): StreamState {
    let state = this.streams.get(stream);
    if (!state) {
      state = { station, pending: 0, again: false, attempt: 0, notBefore: 0, retryAfterUntil: 0, probeUntil: 0, gaps: 0 };
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
    state.draining = this.drainLoop(stream, state)
      .catch((error) => this.fail(error, stream))
      .finally(() => {
        state.draining = undefined;
      });
    return state.draining;
  }

  private async drainLoop(stream: string, state: StreamState): Promise<void> {
    while (this.running) {
      if (Date.now() < state.notBefore) return this.schedule(stream, state);
      const batch = await this.conn.run((db) => readBatch(db, stream, this.config.limits));
      if (!this.running) return;
      if (!batch) {
        state.pending = 0;
        this.hooks.changed();
        if (state.again) {
          state.again = false;
          continue;
        }
        return;
      }
      state.again = false;
      this.narrow(batch, state);
      const outcome = await this.send(state.station, batch);
      if (!this.running) return; // closed mid-flight: the next syncing tab resends, the station dedups
      if (outcome.ok) {
        await this.acknowledge(batch, state, outcome.value.results);
        continue;
      }
      const error = outcome.error;
      if (error.code === "seq_gap" && typeof error.details.expectedSeq === "number" && state.gaps < MAX_GAPS_IN_A_ROW) {
        state.gaps++;
        this.answered();
        await this.conn.run((db) => resumeAt(db, batch, error.details.expectedSeq as number));
        continue;
      }
      if (isPermanent(error)) {
        this.answered();
        await this.refuse(batch, state, error);
        continue;
      }
      return this.backOff(stream, state, error);
    }
  }

  /** While probing for the message a batch was refused for, send fewer. */
  private narrow(batch: Batch, state: StreamState): void {
    const head = batch.entries[0]!.seq;
    const limit = state.capNext ?? (head <= state.probeUntil ? 1 : batch.entries.length);
    state.capNext = undefined;
    if (limit < batch.entries.length) batch.entries.length = Math.max(1, limit);
  }

  private async send(station: string, batch: Batch) {
    const messages = batch.entries.map((e) => `{"seq":${e.seq - batch.shift},${messageFragment(e)}}`);
    const body = `{"producer":${JSON.stringify(batch.producer)},"messages":[${messages.join(",")}]}`;
    this.inFlight++;
    this.hooks.changed();
    try {
      return await this.transport.send("POST", `/v1/stations/${encodeURIComponent(station)}/messages`, body, ProduceResponseSchema);
    } finally {
      this.inFlight--;
    }
  }

  private async acknowledge(batch: Batch, state: StreamState, results: { seq: number | null; offset: number | null; duplicate: boolean; deadLettered?: boolean }[]): Promise<void> {
    // Assert before writing: one answer per message, in order, for the seqs we sent.
    const matches = results.length === batch.entries.length && results.every((r, i) => r.seq === batch.entries[i]!.seq - batch.shift);
    if (!matches) return this.backOff(batch.stream, state, new WaystationError("bad_response", "The results do not match the batch"));
    this.answered();
    state.attempt = 0;
    state.gaps = 0;
    if (!(await this.conn.run((db) => removeAcked(db, batch)))) return;
    state.pending = Math.max(0, state.pending - batch.entries.length);
    this.hooks.acked(
      results.map((r, i) => {
        const event: AckedEvent = { station: state.station, seq: batch.entries[i]!.seq, offset: r.offset, duplicate: r.duplicate };
        if (r.deadLettered) event.deadLettered = true;
        return event;
      }),
    );
    this.hooks.changed();
  }

  /** A refusal for good: dead-letter the culprit, or narrow down to it first. */
  private async refuse(batch: Batch, state: StreamState, error: WaystationError): Promise<void> {
    const entries = batch.entries;
    if (entries.length > 1 && !STATION_WIDE.has(error.code as ErrorCode)) {
      state.probeUntil = entries[entries.length - 1]!.seq;
      const index = messageIndex(error);
      if (index !== undefined && index > 0 && index < entries.length) state.capNext = index;
      return;
    }
    const wire = { code: error.code, message: error.message, status: error.status, details: error.details };
    const ids = await this.conn.run((db) => deadLetterHead(db, batch, entries.length, wire, Date.now()));
    if (!ids) return;
    state.pending = Math.max(0, state.pending - entries.length);
    this.deadLetters += ids.length;
    this.hooks.rejected(entries.map((e, i) => ({ station: state.station, seq: e.seq, code: error.code, error, deadLetterId: ids[i]! })));
    this.hooks.changed();
  }

  private backOff(stream: string, state: StreamState, error: WaystationError): void {
    this.lastError = error;
    state.attempt++;
    const delayMs = backoffDelayMs(state.attempt, this.config.backoff, this.config.random, error.retryAfterMs);
    state.notBefore = Date.now() + delayMs;
    if (error.retryAfterMs !== undefined) state.retryAfterUntil = state.notBefore;
    this.schedule(stream, state);
    this.hooks.changed();
  }

  private schedule(stream: string, state: StreamState): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.drain(stream);
    }, Math.max(0, state.notBefore - Date.now()));
  }

  private answered(): void {
    this.lastError = null;
    this.offlineHint = false;
  }

  private fail(error: unknown, stream?: string): void {
    const typed = error instanceof WaystationError ? error : new WaystationError("storage_error", String((error as Error)?.message ?? error));
    const state = stream === undefined ? undefined : this.streams.get(stream);
    if (stream !== undefined && state) return this.backOff(stream, state, typed);
    this.lastError = typed;
    this.hooks.changed();
  }
}

/** 4xx but 401 (token), 408 (timeout), 409 (seq_gap, conflict) and 429 (rate): the action, not the moment, is wrong. */
export function isPermanent(error: WaystationError): boolean {
  const { status } = error;
  return status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 409 && status !== 429;
}

/** The refused message's index, when the server names it (`index`, or an issue at `messages.N…`). */
function messageIndex(error: WaystationError): number | undefined {
  const { index, issues } = error.details as { index?: unknown; issues?: { path?: string }[] };
  if (typeof index === "number") return index;
  const match = /^messages\.(\d+)/.exec(Array.isArray(issues) ? (issues[0]?.path ?? "") : "");
  return match ? Number(match[1]) : undefined;
}
