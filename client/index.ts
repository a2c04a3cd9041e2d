// The Waystation browser SDK: the public API and nothing else. An action passed to enqueue() is
// committed to IndexedDB before the promise resolves, then synced exactly once, in order.
import type { Message } from "../shared/messages";
import { WaystationClient } from "./client";
import type { WaystationError } from "./errors";
import type { DocOptions, WaystationDoc } from "./docs/doc";

export { WaystationError, type WaystationErrorCode } from "./errors";
export type { Message } from "../shared/messages";
export type { DocOptions, DocStatus, WaystationDoc } from "./docs/doc";

/**
 * Opens the outbox and starts syncing (in one tab per origin; the others enqueue and watch).
 *
 * @example
 * import { createClient } from "waystation";
 * const client = createClient({ url: "https://broker.example.com", getToken: () => fetchTokenFromMyBackend() });
 * const todos = client.station("todos");
 * const { seq } = await todos.enqueue({ op: "add", text: "milk" }); // committed to IndexedDB
 */
export function createClient(options: ClientOptions): Client {
  return new WaystationClient(options);
}

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
  /** Enqueues a dead letter again, at the end of its station's queue with a new seq. */
  retryDeadLetter(deadLetterId: number): Promise<{ station: string; seq: number }>;
  /** Forgets a dead letter. */
  dropDeadLetter(deadLetterId: number): Promise<void>;
  /**
   * Streams (stations of this server) whose last attempt got an answer that was not a ruling —
   * 401/403, `station_not_found`, a proxy's page, 413/422 at the edge, a 5xx — with that error,
   * since when and how many attempts in a row. Their actions stay pending and are retried with
   * backoff; a stream leaves this list by itself once the station rules again.
   *
   * @example
   * for (const b of await client.blockedStreams()) if (b.error.code === "station_not_found") showStuck(b.station, b.pending)
   */
  blockedStreams(): Promise<BlockedStream[]>;
  /**
   * Gives up on a station's pending actions: deletes them from the outbox and resolves with them
   * (so the app can keep or show them). Never done automatically. Actions already in flight may
   * still be stored by the station. Later enqueues to the station start a new producer.
   *
   * @example
   * const dropped = await client.discardStream("deleted-station");
   */
  discardStream(station: string): Promise<PendingAction[]>;
  /** Asks the browser not to evict the outbox (`navigator.storage.persist()`); resolves with its answer. */
  persist(): Promise<boolean>;
  /**
   * The producer id new actions to `station` are sent under (each stream — server and station —
   * has its own; it changes when the station forgot the producer or another writer used it).
   * Without a station: the database's own id, kept for compatibility (not a wire producer).
   */
  producerId(station?: string): Promise<string>;
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
   * Commits the action to IndexedDB (durability `strict`) with its seq, in one transaction,
   * and resolves with the seq (fixed for life: nothing renumbers it). Rejects with a
   * {@link WaystationError}: `invalid_request` (body not JSON or holding NaN/Infinity, bad
   * headers/key/id), `message_too_large` (a body over 1,900,000 bytes, more than any station
   * takes), `quota_exceeded` (storage full; nothing was written),
   * `schema_violation` (the body fails the station's schema, checked here against a copy cached in
   * IndexedDB, so also offline; `details.local` is true, `details.violations` says where).
   */
  enqueue(body: unknown, options?: EnqueueOptions): Promise<{ seq: number }>;
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
  /** Ordering/partition key, opaque to the station. */
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
  seq: number;
  /** The message's offset in the station; `null` only for an old duplicate trimmed by retention,
   *  or one the station holds in its dead-letter station (`deadLettered`: delivered, not refused). */
  offset: number | null;
  /** The station had already stored it: an earlier answer was lost. Still acknowledged once. */
  duplicate: boolean;
  deadLettered?: boolean;
}

/** @example client.on("rejected", ({ code, deadLetterId }) => code === "schema_violation" && client.dropDeadLetter(deadLetterId)) */
export interface RejectedEvent {
  station: string;
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
