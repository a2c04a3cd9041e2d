// A server-side producer: sends are batched (up to maxBatchMessages, or after lingerMs) and
// sent one batch at a time, in order, retried with backoff on failures that may pass. Two ways
// to stay idempotent across retries: each message carries an `id` (generated unless given), so
// the station drops a resend within its dedupWindowMs; or, with a `store`, a persistent
// producer id and seq, reserved in the store before a batch goes out so no seq is ever reused.
// On a partitioned station each partition rules its own seqs, so with a store the producer
// numbers per partition (by key, else by its producer id, over the count the station last
// answered with) and sends each partition's part as its own request naming that partition.
import { ErrorCode } from "../../shared/errors";
import type { Headers } from "../../shared/messages";
import { MAX_BATCH_MESSAGES } from "../../shared/limits";
import { type ProduceResult, ProduceResponseSchema } from "../../shared/messages";
import { partitionFor } from "../../shared/partitions";
import { backoffDelayMs } from "../backoff";
import { errorFromWire, WaystationError } from "../errors";
import type { Transport } from "../transport";
import { randomHex, sleep } from "./ids";

/** Where a persistent producer keeps its id and the last seq it reserved (a file, a KV, a row). */
export interface ProducerStore {
  load(): ProducerState | null | undefined | Promise<ProducerState | null | undefined>;
  save(state: ProducerState): void | Promise<void>;
}
export interface ProducerState {
  producer: string;
  /** The last seq handed to a message of partition 0 (sent or about to be). */
  seq: number;
  /** The last seq handed to a message of each other partition, by partition. */
  seqs?: Record<string, number>;
  /** The station's partition count as it last answered (1 until it did): new messages are numbered by it. */
  partitions?: number;
}

export interface ProducerOptions {
  /** Keep the producer id and seq here: exactly-once by seq instead of dedup ids. */
  store?: ProducerStore;
  /** Most messages per request; default 500 (the station takes at most 1,000). */
  maxBatchMessages?: number;
  /** Most bytes of message JSON per request; default 1 MiB. */
  maxBatchBytes?: number;
  /** Wait this long for more sends before sending a batch; default 5 ms. */
  lingerMs?: number;
  /** Attempts per batch before its sends reject; default 10. */
  maxAttempts?: number;
  /** Backoff with full jitter between these bounds; defaults 200 ms and 10,000 ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface SendOptions {
  key?: string;
  headers?: Headers;
  /** Dedup id (without a store); default: a random id, the same on every retry. */
  id?: string;
}

/**
 * What the station ruled: stored at `offset` (null if it went to the DLS), or a duplicate; in
 * `partition` (0 on an unpartitioned station), where `offset` counts. The station's own result.
 */
export type SendResult = Pick<ProduceResult, "partition" | "offset" | "duplicate" | "seq" | "deadLettered">;

export interface Producer {
  readonly station: string;
  /** Queues a message; resolves once the station stored it (or rejects with a WaystationError). */
  send(body: unknown, options?: SendOptions): Promise<SendResult>;
  /** Sends what is queued now; resolves when every send before it has settled. */
  flush(): Promise<void>;
  /** Flushes, then refuses further sends (`closed`). */
  close(): Promise<void>;
}

interface Pending {
  message: { body: unknown; key?: string; headers?: Headers; id?: string; seq?: number };
  bytes: number;
  resolve(result: SendResult): void;
  reject(error: WaystationError): void;
}

/** Failures worth another attempt: nothing was ruled (no answer, overload, outage). */
const RETRYABLE = new Set<string>(["network_error", "bad_response", ErrorCode.RateLimited, ErrorCode.Unavailable, ErrorCode.Internal]);

export function createProducer(transport: Transport, station: string, options: ProducerOptions = {}): Producer {
  const maxMessages = Math.min(Math.max(1, options.maxBatchMessages ?? 500), MAX_BATCH_MESSAGES);
  const maxBytes = Math.max(1024, options.maxBatchBytes ?? 1024 * 1024);
  const lingerMs = Math.max(0, options.lingerMs ?? 5);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 10);
  const backoff = { baseMs: options.backoffBaseMs ?? 200, maxMs: options.backoffMaxMs ?? 10_000 };
  const path = `/v1/stations/${encodeURIComponent(station)}/messages`;
  const queue: Pending[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending: Promise<void> = Promise.resolve();
  let closed = false;
  let state: Promise<ProducerState> | undefined;

  /** The persistent producer's state, loaded once (a new producer id when the store is empty). */
  const loadState = (store: ProducerStore) =>
    (state ??= Promise.resolve(store.load()).then((saved) => (saved && saved.producer ? { ...saved } : { producer: `srv-${randomHex()}`, seq: 0 })));

  const schedule = () => {
    if (queue.length >= maxMessages || lingerMs === 0) return void drain();
    timer ??= setTimeout(drain, lingerMs);
  };

  /** Sends every queued message, batch after batch, on the one chain (order is kept). */
  const drain = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    sending = sending.then(async () => {
      while (queue.length > 0) await sendBatch(takeBatch());
    });
    return sending;
  };

  const takeBatch = (): Pending[] => {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < maxMessages && (n === 0 || bytes + queue[n]!.bytes <= maxBytes)) bytes += queue[n++]!.bytes;
    return queue.splice(0, n);
  };

  const sendBatch = async (batch: Pending[]) => {
    if (!options.store) return sendPart(batch);
    let parts: { partition: number; batch: Pending[] }[];
    let current: ProducerState;
    try {
      current = await loadState(options.store);
      parts = numberPerPartition(current, batch);
      // Reserved before sending: after a crash, these seqs are never given to other messages.
      await options.store.save(copyState(current));
    } catch (error) {
      const failure = error instanceof WaystationError ? error : new WaystationError("storage_error", `Producer store: ${(error as Error)?.message ?? error}`);
      return batch.forEach((p) => p.reject(failure));
    }
    // One partition after the other: each part is ruled by its own partition, in its own seqs.
    for (const part of parts) {
      const partitions = await sendPart(part.batch, current.producer, part.partition);
      if (partitions !== undefined && partitions !== (current.partitions ?? 1)) await learnCount(current, partitions);
    }
  };

  /** Numbers the batch per partition, in order (each message's partition by its key, else the producer). */
  const numberPerPartition = (current: ProducerState, batch: Pending[]) => {
    const parts = new Map<number, Pending[]>();
    for (const p of batch) {
      const partition = partitionFor(p.message.key, current.producer, current.partitions ?? 1) ?? 0;
      const last = partition === 0 ? current.seq : (current.seqs?.[partition] ?? 0);
      p.message.seq = last + 1;
      if (partition === 0) current.seq = last + 1;
      else current.seqs = { ...current.seqs, [partition]: last + 1 };
      parts.set(partition, [...(parts.get(partition) ?? []), p]);
    }
    return [...parts].map(([partition, part]) => ({ partition, batch: part }));
  };

  /** Keeps the count the station answered with: the messages numbered next route by it. */
  const learnCount = async (current: ProducerState, partitions: number) => {
    current.partitions = partitions;
    try {
      await options.store!.save(copyState(current));
    } catch {
      // Only the routing of later messages: the seqs are saved before each send.
    }
  };

  /** Sends one part until it is ruled or given up; resolves with the station's partition count, if it answered one. */
  const sendPart = async (batch: Pending[], producer?: string, partition?: number): Promise<number | undefined> => {
    for (let attempt = 1; ; attempt++) {
      const messages = batch.map((p) => p.message);
      const body = JSON.stringify(producer ? { producer, partition, messages } : { messages });
      const outcome = await transport.send("POST", path, body, ProduceResponseSchema, { requireProtocol: true });
      if (outcome.ok) {
        const { results, partitions } = outcome.value;
        // A sequenced part is ruled by the partition it was numbered for, or not at all.
        if (results.length !== batch.length || (producer && results.some((r) => r.partition !== partition && !r.unruled))) {
          const error = new WaystationError("bad_response", `${results.length} results for ${batch.length} messages, not all of partition ${partition}`);
          batch.forEach((p) => p.reject(error));
          return partitions;
        }
        // Unruled (their partition was not reached): nothing was decided; they go again, same seqs or ids.
        const unruled = batch.filter((_, i) => results[i]!.unruled);
        batch.forEach((p, i) => results[i]!.unruled || settle(p, results[i]!));
        if (unruled.length === 0) return partitions;
        batch = unruled;
        if (attempt >= maxAttempts) {
          const error = errorFromWire(results.find((r) => r.unruled)!.unruled!, 503);
          batch.forEach((p) => p.reject(error));
          return partitions;
        }
        await sleep(backoffDelayMs(attempt, backoff, Math.random));
        continue;
      }
      const error = outcome.error;
      // Reserved seqs the station never saw (a crash between reserving and sending): it names
      // the seq it expects, and nothing from there on is stored, so the batch moves down to it.
      if (producer && error.code === ErrorCode.SeqGap && typeof error.details.expectedSeq === "number" && attempt < maxAttempts) {
        const from = error.details.expectedSeq;
        batch.forEach((p, i) => (p.message.seq = from + i));
        continue;
      }
      if (!RETRYABLE.has(error.code) || attempt >= maxAttempts) return void batch.forEach((p) => p.reject(error));
      await sleep(backoffDelayMs(attempt, backoff, Math.random, error.retryAfterMs));
    }
  };

  const settle = (p: Pending, result: ProduceResult) => {
    if (result.refused) {
      return p.reject(errorFromWire(result.refused, 200));
    }
    p.resolve({ partition: result.partition, offset: result.offset, duplicate: result.duplicate, seq: result.seq, ...(result.deadLettered ? { deadLettered: true } : {}) });
  };

  return {
    station,
    send(body, sendOptions = {}) {
      if (closed) return Promise.reject(new WaystationError("closed", "The producer is closed"));
      if (body === undefined) return Promise.reject(new WaystationError(ErrorCode.InvalidRequest, "A message needs a body"));
      const message: Pending["message"] = { body };
      if (sendOptions.key !== undefined) message.key = sendOptions.key;
      if (sendOptions.headers !== undefined) message.headers = sendOptions.headers;
      // Without a store the id is what makes a retried batch harmless.
      if (sendOptions.id !== undefined || !options.store) message.id = sendOptions.id ?? randomHex();
      let bytes: number;
      try {
        bytes = JSON.stringify(message).length;
      } catch (error) {
        return Promise.reject(new WaystationError(ErrorCode.InvalidRequest, `The body is not JSON: ${(error as Error).message}`));
      }
      return new Promise<SendResult>((resolve, reject) => {
        queue.push({ message, bytes, resolve, reject });
        schedule();
      });
    },
    flush: () => drain(),
    async close() {
      closed = true;
      await drain();
    },
  };
}

function copyState(state: ProducerState): ProducerState {
  return { ...state, ...(state.seqs ? { seqs: { ...state.seqs } } : {}) };
}
