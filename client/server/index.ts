// The Waystation client for services (Node ≥ 20, Bun, Deno, Workers): a batching producer and
// a group consumer with per-message verdicts. Only the fetch and WebSocket globals are used
// (pass `WebSocket` where there is none, e.g. Node 20; without one the consumer long-polls).
// Errors are the browser SDK's WaystationError, with the same codes (shared/errors.ts).
import { Transport } from "../transport";
import { type ServerConsumeOptions, type ServerConsumer, type ServerMessageHandler, startServerConsumer } from "./consumer";
import { type Producer, type ProducerOptions, createProducer } from "./producer";

export { WaystationError, type WaystationErrorCode } from "../errors";
export type { Message } from "../../shared/messages";
export type { ConsumedMessage, ServerConsumeOptions, ServerConsumer, ServerMessageHandler } from "./consumer";
export type { Producer, ProducerOptions, ProducerState, ProducerStore, SendOptions, SendResult } from "./producer";

export interface ServerClientOptions {
  /** The Waystation worker, e.g. `https://broker.example.com`. */
  url: string;
  /** A fixed bearer token. Give this or `getToken`. */
  token?: string;
  /** Asked for the first request, again on a 401, and when a socket closes for its token (4001/4003). */
  getToken?: () => string | Promise<string>;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: the global WebSocket (Node ≥ 22, Bun, Deno, Workers). Without one consumers long-poll. */
  WebSocket?: typeof WebSocket;
  /** A request with no answer after this long is a network failure; default 30,000 ms. */
  requestTimeoutMs?: number;
}

export interface ServerClient {
  /**
   * A producer for one station: batches sends, retries with backoff, and stays idempotent by
   * dedup ids (default) or by a persistent producer id and seq (`store`).
   *
   * @example
   * const orders = client.producer("orders");
   * const { offset } = await orders.send({ sku: "A-1" }, { key: "user-7" });
   */
  producer(station: string, options?: ProducerOptions): Producer;
  /**
   * Consumes a group (create it first with `PUT /v1/stations/{station}/groups/{group}`).
   *
   * @example
   * const consumer = client.consume("orders", "billing", async (m) => {
   *   if (!valid(m.body)) return m.deadLetter("invalid order");
   *   await m.working(); // a long job: keep the lease
   *   await charge(m.body); // returning acks; throwing nacks
   * }, { concurrency: 8 });
   * process.on("SIGTERM", () => consumer.stop());
   */
  consume(station: string, group: string, handler: ServerMessageHandler, options?: ServerConsumeOptions): ServerConsumer;
}

export function createServerClient(options: ServerClientOptions): ServerClient {
  if (!options.token && !options.getToken) throw new TypeError("createServerClient needs `token` or `getToken`");
  const url = options.url.replace(/\/+$/, "");
  const transport = new Transport({
    url,
    token: options.token,
    getToken: options.getToken,
    fetch: options.fetch,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
  });
  return {
    producer: (station, producerOptions) => createProducer(transport, station, producerOptions),
    consume: (station, group, handler, consumeOptions) => startServerConsumer({ transport, url, WebSocket: options.WebSocket }, station, group, handler, consumeOptions),
  };
}

/** The same as `createServerClient(options).consume(station, group, handler, consumeOptions)`. */
export function consume(options: ServerClientOptions, station: string, group: string, handler: ServerMessageHandler, consumeOptions?: ServerConsumeOptions): ServerConsumer {
  return createServerClient(options).consume(station, group, handler, consumeOptions);
}
