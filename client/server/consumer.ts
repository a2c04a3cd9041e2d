// A server-side consumer of one group: leased messages run through the handler with up to
// `concurrency` at a time, each with its own ack(), nack(delayMs), working() (extends the
// lease) and deadLetter(reason). WebSocket subscribe when a WebSocket is at hand (credit =
// free slots), else long-poll fetch. Reconnects with backoff, and with a fresh token after the
// socket closes for its token (4001/4003). stop() finishes the handlers running and their
// verdicts, and gives back (nack) what was leased but not started.
import { FetchResponseSchema } from "../../shared/groups";
import { MAX_FETCH_MESSAGES, MAX_WAIT_MS } from "../../shared/limits";
import type { Message } from "../../shared/messages";
import { closeNeedsFreshToken, webSocketProtocols } from "../../shared/websocket-auth";
import { backoffDelayMs } from "../backoff";
import { WaystationError } from "../errors";
import { readServerFrame } from "../subscribe-frame";
import type { Transport } from "../transport";
import { randomHex, sleep } from "./ids";
import { type Verdicts, createVerdicts } from "./verdicts";

/** A leased message and what the handler may decide about it. Settled once; later calls are no-ops. */
export interface ConsumedMessage extends Message {
  /** Done with it: gone from the group. */
  ack(): Promise<void>;
  /** Hand it out again after `delayMs` (default: the consumer's nackDelayMs). */
  nack(delayMs?: number): Promise<void>;
  /** Still working: keeps the lease another ackTimeoutMs. False when the lease was already lost. */
  working(): Promise<boolean>;
  /** Give up on it: to the dead-letter station now (reason `rejected`, `detail.reason` = reason). */
  deadLetter(reason: string): Promise<void>;
}

/** Returns (without settling): acked. Throws: nacked with the default delay. */
export type ServerMessageHandler = (message: ConsumedMessage) => unknown | Promise<unknown>;

export interface ServerConsumeOptions {
  /** Handlers running at once; default 1. */
  concurrency?: number;
  /** Most messages leased to this consumer at once (running or waiting); default `concurrency`. */
  max?: number;
  /** Aborting it stops the consumer, as stop() does. */
  signal?: AbortSignal;
  /** This member's name in the group; default a random `srv-…`. */
  consumer?: string;
  /** Delay of a nack without one (and of a handler that throws); default 1,000 ms. */
  nackDelayMs?: number;
  /** Long-poll wait; default 25,000 ms. */
  waitMs?: number;
  /** `auto` (default): WebSocket when one is available and the server takes it, else long-poll. */
  transport?: "auto" | "websocket" | "poll";
  /** Called for each failure that is retried (fetch, socket, verdict) and each handler throw. */
  onError?: (error: WaystationError) => void;
}

export interface ServerConsumer {
  readonly transport: "websocket" | "poll";
  /** Stops leasing, finishes running handlers and their verdicts; resolves when all is done. */
  stop(): Promise<void>;
  /** Resolves when the consumer has stopped (by stop() or the signal). */
  readonly done: Promise<void>;
}

const BACKOFF = { baseMs: 250, maxMs: 15_000 };

export interface ConsumerContext {
  transport: Transport;
  url: string;
  WebSocket?: typeof WebSocket;
}

export function startServerConsumer(
  context: ConsumerContext,
  station: string,
  group: string,
  handler: ServerMessageHandler,
  options: ServerConsumeOptions = {},
): ServerConsumer {
  const limit = Math.min(Math.max(1, options.max ?? options.concurrency ?? 1), MAX_FETCH_MESSAGES);
  const concurrency = Math.min(Math.max(1, options.concurrency ?? 1), limit);
  const name = options.consumer ?? `srv-${randomHex()}`;
  const nackDelayMs = options.nackDelayMs ?? 1000;
  const waitMs = Math.min(Math.max(0, options.waitMs ?? 25_000), MAX_WAIT_MS);
  const path = `/v1/stations/${encodeURIComponent(station)}/groups/${encodeURIComponent(group)}`;
  const report = (error: WaystationError) => options.onError?.(error);
  const Socket = context.WebSocket ?? (typeof WebSocket === "function" ? WebSocket : undefined);
  let mode: "websocket" | "poll" = options.transport !== "poll" && Socket ? "websocket" : "poll";
  if (options.transport === "websocket" && !Socket) throw new WaystationError("invalid_request", "No WebSocket here: pass the WebSocket option or use transport: 'poll'");

  const stopping = new AbortController();
  const verdicts: Verdicts = createVerdicts(context.transport, path, name, report);
  /** Leased and not yet started. */
  const waiting: Message[] = [];
  const running = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const nudge = () => (wake?.(), (wake = undefined));
  /** Leased to us and not settled yet (waiting + running): what credit must not exceed. */
  const outstanding = () => waiting.length + running.size;

  const runOne = (message: Message) => {
    let settled = false;
    // Every verdict names the epoch the message was handed out in (none written: epoch 0), so one
    // that arrives after the group was moved counts for nothing instead of settling a new lease.
    const epoch = message.epoch ?? 0;
    const once = <A extends unknown[]>(verdict: (...args: A) => Promise<void>) => async (...args: A) => {
      if (settled) return;
      settled = true;
      await verdict(...args);
    };
    const consumed: ConsumedMessage = {
      ...message,
      ack: once(() => verdicts.ack(message, epoch)),
      nack: once((delayMs?: number) => verdicts.nack(message, delayMs ?? nackDelayMs, epoch)),
      deadLetter: once((reason: string) => verdicts.deadLetter(message, reason, epoch)),
      working: async () => (settled ? false : verdicts.extend(message, epoch)),
    };
    const task = (async () => {
      try {
        await handler(consumed);
        await consumed.ack();
      } catch (error) {
        report(error instanceof WaystationError ? error : new WaystationError("internal", `Handler failed on offset ${message.offset}: ${(error as Error)?.message ?? error}`));
        await consumed.nack();
      }
    })().finally(() => {
      running.delete(task);
      verdicts.freed(1);
      pump();
      nudge();
    });
    running.add(task);
  };

  /** Starts waiting messages while slots are free (not once stopping: those are given back). */
  const pump = () => {
    while (!stopping.signal.aborted && running.size < concurrency && waiting.length > 0) runOne(waiting.shift()!);
  };

  const accept = (messages: Message[]) => {
    waiting.push(...messages);
    pump();
  };

  /** Resolves when a slot frees up (or stopping). */
  const slotFree = () =>
    new Promise<void>((resolve) => {
      if (outstanding() < limit || stopping.signal.aborted) return resolve();
      wake = resolve;
      stopping.signal.addEventListener("abort", () => resolve(), { once: true });
    });

  const poll = async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      await slotFree();
      if (stopping.signal.aborted) return;
      const body = JSON.stringify({ consumer: name, max: limit - outstanding(), waitMs: failures > 0 ? 0 : waitMs });
      const outcome = await context.transport.send("POST", `${path}/fetch`, body, FetchResponseSchema, { timeoutMs: waitMs + 15_000, signal: stopping.signal });
      if (!outcome.ok) {
        if (stopping.signal.aborted) return;
        report(outcome.error);
        if (outcome.error.code === "group_not_found" || outcome.error.code === "forbidden" || outcome.error.code === "station_not_found") {
          // Nothing will change by retrying fast; keep trying slowly (a group may be created).
          failures = Math.max(failures, 5);
        }
        await sleep(backoffDelayMs(++failures, BACKOFF, Math.random, outcome.error.retryAfterMs), stopping.signal);
        continue;
      }
      failures = 0;
      // Leased while we were stopping: given back below with the rest of `waiting`.
      accept(outcome.value.messages);
    }
  };

  let staleToken: string | undefined;

  /** One socket session; resolves when it closed, saying whether it ever got going. */
  const subscribe = async (SocketClass: typeof WebSocket): Promise<boolean> => {
    const token = await context.transport.bearer(staleToken).catch((error: unknown) => {
      report(new WaystationError("unauthorized", `getToken failed: ${(error as Error)?.message ?? error}`));
      return "";
    });
    staleToken = undefined;
    verdicts.resetCredit();
    const credit = Math.max(0, limit - outstanding());
    const url = `${context.url.replace(/^http/, "ws")}${path}/subscribe?consumer=${encodeURIComponent(name)}&credit=${credit}`;
    let socket: WebSocket;
    try {
      socket = new SocketClass(url, webSocketProtocols(token));
    } catch (error) {
      report(new WaystationError("network_error", `WebSocket: ${(error as Error)?.message ?? error}`));
      return false;
    }
    let worked = false;
    const onStop = () => socket.close(1000, "stopped");
    stopping.signal.addEventListener("abort", onStop, { once: true });
    socket.onopen = () => verdicts.attach(socket);
    socket.onmessage = (event) => {
      const reading = readServerFrame(event.data);
      if (!reading.ok) {
        report(reading.error);
        // The answer a verdict waits for came unreadable: that verdict goes over HTTP now.
        if (reading.ref !== undefined) verdicts.unanswered(reading.ref);
        return;
      }
      const { frame } = reading;
      if (frame.type === "subscribed") worked = true;
      else if (frame.type === "messages") {
        worked = true;
        accept(frame.messages);
      } else verdicts.onFrame(frame);
    };
    await new Promise<void>((resolve) => {
      socket.onclose = (event) => {
        if (closeNeedsFreshToken(event.code)) staleToken = token;
        resolve();
      };
      socket.onerror = () => {
        // onclose follows; the error event carries nothing worth more than that.
      };
    });
    verdicts.detach(socket);
    stopping.signal.removeEventListener("abort", onStop);
    return worked;
  };

  const run = async () => {
    let failures = 0;
    while (!stopping.signal.aborted && mode === "websocket") {
      const worked = await subscribe(Socket!);
      if (stopping.signal.aborted) break;
      failures = worked ? 0 : failures + 1;
      if (worked && staleToken !== undefined) continue; // token ran out under a working socket
      if (!worked && failures >= 2 && options.transport !== "websocket") {
        mode = "poll"; // the server or a proxy refuses WebSockets
        break;
      }
      report(new WaystationError("network_error", "The subscribe socket closed; reconnecting"));
      await sleep(backoffDelayMs(Math.max(1, failures), BACKOFF, Math.random), stopping.signal);
    }
    if (!stopping.signal.aborted) await poll();
  };

  const stop = async () => {
    stopping.abort();
    nudge();
  };
  options.signal?.addEventListener("abort", () => void stop(), { once: true });
  if (options.signal?.aborted) stopping.abort();

  const done = (async () => {
    await run().catch((error) => report(error instanceof WaystationError ? error : new WaystationError("internal", String(error))));
    // Leased but never started: back in line at once for other members of the group.
    const unstarted = waiting.splice(0).map(({ partition, offset }) => ({ partition, offset }));
    await Promise.all([verdicts.nackMany(unstarted, 0), ...running]);
    while (running.size > 0) await Promise.all(running);
    await verdicts.settled();
  })();

  return {
    get transport() {
      return mode;
    },
    async stop() {
      await stop();
      await done;
    },
    done,
  };
}
