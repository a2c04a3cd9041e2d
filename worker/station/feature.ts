// The one contract between the Station Durable Object and the features it hosts (groups,
// webhooks, documents, the socket guard, archiving): every feature is built from the same
// StationContext and implements the hooks of StationFeature it needs. The object owns the
// lifecycle and the RPC surface; for each event it loops over its features, so a new feature
// is one more entry in that list, not another hand-written call in `produce`, `fetch` or `alarm`.
// (Cloudflare's `agents` package runs its capabilities the same way.)
import type { Result } from "../../shared/errors";
import type { ScheduledTask } from "./scheduler";
import type { StationEnv } from "./station-env";
import type { StationRecord } from "./log/record";

/** What a feature may use of its station. Built once by the object, before any feature. */
export interface StationContext {
  readonly ctx: DurableObjectState;
  readonly sql: SqlStorage;
  readonly env: StationEnv;
  /** The station's row, or null when the station does not exist (not created, or deleted). */
  record(): StationRecord | null;
  /** One storage transaction; a failed Result rolls it back like a throw does. */
  transact<T>(work: (record: StationRecord) => Result<T>): Result<T>;
  /** Makes sure the alarm fires no later than `at`. */
  wakeBy(at: number): Promise<void>;
}

/** The hooks a feature may implement; the object calls each feature's, in the order it lists them. */
export interface StationFeature {
  /** Work the alarm drives: each task says when it is next due (worker/station/scheduler.ts). */
  readonly tasks?: readonly ScheduledTask[];
  /** A request the Worker forwarded to the object (WebSocket upgrades): the answer if it is this feature's, else null. */
  onRequest?(request: Request): Promise<Response | null>;
  /** A message on a hibernating socket: true when the socket is this feature's (then no other feature sees it). */
  onSocketMessage?(socket: WebSocket, message: string | ArrayBuffer): Promise<boolean>;
  /** A socket closed; each feature forgets what it kept for it. */
  onSocketClose?(socket: WebSocket): void;
  /**
   * Messages became readable: stored above `lastBefore` by a produce, or delayed ones came due
   * (then `lastBefore` is the log's last offset). Called synchronously in list order before any
   * feature awaits, so a feature that pushes the new offsets sees them before anything trims them.
   */
  afterAppend?(lastBefore: number): void | Promise<void>;
  /** The station was deleted: drop what is held in memory, close what is open. */
  reset?(): void;
}
