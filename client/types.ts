// The public types of the SDK (options, station, events, status, consumers): a leaf that the
// modules behind the API import, so none of them needs client/index.ts.
import type { Message } from "../shared/messages";
import type { WaystationError } from "./errors";

/**
 * How to reach the server, and how to sync. Only `url` and a token are needed.
 *
 * @example
 * createClient({ url: location.origin, token: sessionStorage.getItem("token")!, persist: true })
 */
export interface ClientOptions {
  /** The Waystation worker, e.g. `https://broker.example.com` (no trailing path). */
  url: string;
  /** A fixed bearer token. Give this or `getToken`. */
  token?: string;
  /** Called for the first request, and again once when the server answers 401. */
  getToken?: () => string | Promise<string>;
  /** IndexedDB database name (one outbox and one producer id per name and origin). Default `waystation`. */
  dbName?: string;
  /** Ask the browser to keep the outbox out of eviction (`navigator.storage.persist()`) on start. */
  persist?: boolean;
  /** Most actions per request; default 500, at most 1,000. */
  maxBatchMessages?: number;
  /** Most bytes per request; default 1 MiB, at most 16 MiB. */
  maxBatchBytes?: number;
  /** Sync at least this often while actions are pending; default 15,000 ms. */
  syncIntervalMs?: number;
  /** Wait this long after an enqueue before syncing, to batch bursts; default 20 ms. */
  debounceMs?: number;
  /** Exponential backoff with full jitter between these bounds; defaults 500 ms and 30,000 ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * A request with no answer after this long counts as a network failure; default 30,000 ms. The
   * wait for an answer's first byte grows with the request body (1 s per 16 KiB uploaded), and a
   * stream whose request timed out sends half as much next time.
   */
  requestTimeoutMs?: number;
  /** How long `getToken` may take before that attempt fails and is retried with backoff; default `requestTimeoutMs`. */
  getTokenTimeoutMs?: number;
  /** The fetch to use (tests, or to simulate going offline). Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Lock manager choosing the one syncing tab; default `navigator.locks`. `null`: this tab always syncs. */
  locks?: LockManager | null;
}

/**
 * A station seen from the browser: enqueue into it, watch what happened, consume from a group.
 *
 * @example
 * const orders = client.station("orders");
 * orders.on("acked", (e) => console.log(`seq ${e.seq} is offset ${e.offset}`));
 * await orders.enqueue({ sku: "A-1" }, { key: "user-7", headers: { source: "web" } });
 */
export interface Station {
  readonly name: string;
  /**
   * Commits the action to IndexedDB (durability `strict`) with its partition and seq, in one
   * transaction, and resolves with them (fixed for life: nothing renumbers it). The partition comes
   * from `key` (else from an id of this client's own for the station) over the partition count the
   * outbox knows for the station (1 until the station said otherwise); seqs count per partition, so
   * an action is named by (station, partition, seq). Rejects with a
   * {@link WaystationError}: `invalid_request` (body not JSON or holding NaN/Infinity, bad
   * headers/key/id), `message_too_large` (a body over 1,900,000 bytes, more than any station
   * takes), `quota_exceeded` (storage full; nothing was written),
   * `schema_violation` (the body fails the station's schema, checked here against a copy cached in
   * IndexedDB, so also offline; `details.local` is true, `details.violations` says where).
   */
  enqueue(body: unknown, options?: EnqueueOptions): Promise<{ seq: number; partition: number }>;
  /** This station's actions not yet acknowledged, in seq order. */
  pending(): Promise<PendingAction[]>;
  /** This station's local dead letters. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Listens to this station's `acked` and `rejected` events (and every `status`). */
  on<K extends keyof ClientEvents>(event: K, listener: (event: ClientEvents[K]) => void): () => void;
  /**
   * Reads from a consumer group: messages are handed to `handler` in order; when it returns the
   * message is acked, when it throws it is nacked (handed out again later). The group keeps its
   * position on the server. WebSocket when the server offers it, else long-poll. The group must
   * exist: create it once with `PUT /v1/stations/{station}/groups/{group}` (the manage right);
   * until then `onError` reports `group_not_found` and the consumer retries with backoff.
   *
   * @example
   * // once, by whoever manages the station: curl -X PUT …/v1/stations/todos/groups/ui -d '{}'
   * const consumer = todos.consume("ui", (m) => render(m.body));
   */
  consume(group: string, handler: MessageHandler, options?: ConsumeOptions): Consumer;
}

/**
 * Options of one enqueued action.
 *
 * @example
 * await todos.enqueue(body, { key: "list-1", headers: { "content-kind": "todo" }, id: crypto.randomUUID() })
 */
export interface EnqueueOptions {
  /** String headers, stored with the message (64 at most, 16 KiB in all). */
  headers?: Record<string, string>;
  /** Ordering/partition key, opaque to the station: actions of one key go to one partition, in order. */
  key?: string;
  /**
   * Your own id for the action, stored with the message. Without one the SDK makes a random
   * action id: the station uses it to tell a resend from another writer's action (seq_conflict).
   */
  id?: string;
  /**
   * Hide the message from groups and webhooks for this long (0 to 7 days). The delay runs from
   * when the station stores it, not from `enqueue()`: an action queued offline waits its full
   * delay after it reaches the station. Replay shows it at once, with `visibleAt`.
   */
  delayMs?: number;
}

/**
 * The events of {@link Client.on} and {@link Station.on}.
 *
 * @example
 * client.on("rejected", (e) => toast(`${e.station} refused #${e.seq}: ${e.code}`));
 */
export interface ClientEvents {
  /** The station stored the action (or had stored it before: `duplicate`). Fired in every tab. */
  acked: AckedEvent;
  /** The station refused the action (its ruling; the seq is consumed); it is now a local dead letter. Fired in every tab. */
  rejected: RejectedEvent;
  /** The sync status changed. */
  status: Status;
}

/** @example client.on("acked", ({ station, seq, offset }) => markDone(station, seq, offset)) */
export interface AckedEvent {
  station: string;
  /** The partition the action went to (0 on an unpartitioned station); with `seq`, it names the action. */
  partition: number;
  seq: number;
  /** The message's offset in its partition; `null` only for an old duplicate trimmed by retention,
   *  or one the station holds in its dead-letter station (`deadLettered`: delivered, not refused). */
  offset: number | null;
  /** The station had already stored it: an earlier answer was lost. Still acknowledged once. */
  duplicate: boolean;
  deadLettered?: boolean;
}

/** @example client.on("rejected", ({ code, deadLetterId }) => code === "schema_violation" && client.dropDeadLetter(deadLetterId)) */
export interface RejectedEvent {
  station: string;
  partition: number;
  seq: number;
  code: string;
  error: WaystationError;
  deadLetterId: number;
}

/**
 * Where syncing stands, for a status line.
 * - `syncing`: a request is in flight; `online`: the last request succeeded and actions wait;
 *   `idle`: nothing waits; `offline`: the last request got no answer; `error`: an answer that is
 *   not a ruling (401/403, 404, 429, 5xx, a proxy's page…), retried with backoff: see `error`,
 *   `retryAt` and `blocked`.
 *
 * @example
 * const { state, pending, deadLetters } = client.status;
 */
export interface Status {
  state: "online" | "offline" | "syncing" | "idle" | "error";
  /** Actions not yet acknowledged, in all stations of this server. */
  pending: number;
  /** Pending actions per station. */
  stations: Record<string, number>;
  deadLetters: number;
  /** This tab is the one that syncs. */
  leader: boolean;
  /** Why the latest failed attempt failed (`bad_response` for an answer that is not the station's). */
  error?: { code: string; message: string; status: number };
  /** When the next attempt is due (ms since epoch), while backing off. */
  retryAt?: number;
  /** The streams whose last attempt got an answer that was not a ruling (see {@link Client.blockedStreams}). */
  blocked?: BlockedStream[];
}

/** @example client.status.blocked?.forEach((b) => console.warn(b.station, b.error.code, b.attempts)) */
export interface BlockedStream {
  station: string;
  /** The stream's partition: each partition of a station has its own stream. */
  partition: number;
  /** Actions waiting in this stream. */
  pending: number;
  error: { code: string; message: string; status: number };
  /** When this error first came (ms since epoch). */
  since: number;
  /** Failed attempts in a row. */
  attempts: number;
}

/** @example for (const a of await todos.pending()) render(a.seq, a.body) */
export interface PendingAction {
  station: string;
  partition: number;
  seq: number;
  body: unknown;
  headers?: Record<string, string>;
  key?: string;
  id?: string;
  /** ms since epoch. */
  enqueuedAt: number;
}

/** @example for (const d of await client.deadLetters()) if (d.error.code === "message_too_large") await client.dropDeadLetter(d.deadLetterId) */
export interface DeadLetter extends PendingAction {
  deadLetterId: number;
  error: WaystationError;
  failedAt: number;
}

/**
 * Called with each message of a group, in offset order. Return (or resolve) to ack; throw to nack.
 *
 * @example
 * const handler: MessageHandler = async (m) => { await render(m.body) }
 */
export type MessageHandler = (message: Message) => void | Promise<void>;

/**
 * Options of {@link Station.consume}.
 *
 * @example
 * todos.consume("ui", handler, { consumer: "tab-" + crypto.randomUUID(), transport: "poll" })
 */
export interface ConsumeOptions {
  /** This member's name within the group; a random one by default. */
  consumer?: string;
  /** Most messages per fetch (or WebSocket credit); default 100. */
  max?: number;
  /** Long-poll wait; default 25,000 ms (the server caps it at 30,000). */
  waitMs?: number;
  /** Delay before a nacked message is handed out again; default 1,000 ms. */
  nackDelayMs?: number;
  /** `auto` (default): WebSocket, falling back to long-poll; or force one. */
  transport?: "auto" | "websocket" | "poll";
  /** Called when a fetch, ack or socket fails (it is retried with backoff). */
  onError?: (error: WaystationError) => void;
}

/**
 * A running consumer.
 *
 * @example
 * const consumer = todos.consume("ui", handler); … await consumer.stop();
 */
export interface Consumer {
  /** `websocket` or `poll`: how messages arrive now. */
  readonly transport: "websocket" | "poll";
  /** Stops after the message being handled; resolves once stopped. */
  stop(): Promise<void>;
}
