// The Waystation browser SDK: the public API and nothing else. An action passed to enqueue() is
// committed to IndexedDB before the promise resolves, then synced exactly once, in order.
import { WaystationClient } from "./client";
import type { Client } from "./client-api";
import type { ClientOptions } from "./types";

export { WaystationError, type WaystationErrorCode } from "./errors";
export type { Message } from "../shared/messages";
export type { DocOptions, DocStatus, WaystationDoc } from "./collab/doc";
export type { Client } from "./client-api";
export type {
  AckedEvent,
  BlockedStream,
  ClientEvents,
  ClientOptions,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  EnqueueOptions,
  MessageHandler,
  PendingAction,
  RejectedEvent,
  Station,
  Status,
} from "./types";

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
