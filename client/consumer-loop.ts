// Reading a station through a consumer group from the browser: leased messages are handed to
// the app's handler in offset order, acked when it returns and nacked when it throws. WebSocket
// subscribe (credit = flow control) when it works, else long-poll fetch. The group keeps the
// position on the server; a message whose ack is lost is handed out again (at least once).
// Each ack or nack names the epoch its messages carried (0 when they carry none), so one that
// arrives after the group was moved (`…/seek`) counts for nothing instead of settling a new lease,
// and, on a partitioned station, each message's partition (client/settle-targets.ts).
// Loaded on the first consume() only (client/consumer.ts), so producer-only apps never ship it.
// The group must exist (only `PUT …/groups/{group}`, the manage right, creates one): a missing
// group is reported to `onError` as `group_not_found` and retried with backoff.
import { AckResponseSchema, type ClientFrame, FetchResponseSchema, NackResponseSchema } from "../shared/groups";
import { MAX_FETCH_MESSAGES, MAX_WAIT_MS } from "../shared/limits";
import type { Message } from "../shared/messages";
import { closeNeedsFreshToken, webSocketProtocols } from "../shared/websocket-auth";
import { backoffDelayMs } from "./backoff";
import { errorFromWire, WaystationError } from "./errors";
import { randomId } from "./outbox/db";
import { settleTargets } from "./settle-targets";
import { readServerFrame } from "./subscribe-frame";
import type { ConsumeOptions, Consumer, MessageHandler } from "./types";
import type { Transport } from "./transport";

const BACKOFF = { baseMs: 500, maxMs: 30_000 };
const ACK_ATTEMPTS = 3;

export function runConsumer(
  transport: Transport,
  url: string,
  station: string,
  group: string,
  handler: MessageHandler,
  options: ConsumeOptions,
  onStop: () => void,
): Consumer {
  const name = options.consumer ?? `web-${randomId()}`;
  const max = Math.min(Math.max(1, options.max ?? 100), MAX_FETCH_MESSAGES);
  const waitMs = Math.min(Math.max(0, options.waitMs ?? 25_000), MAX_WAIT_MS);
  const nackDelayMs = options.nackDelayMs ?? 1000;
  const path = `/v1/stations/${encodeURIComponent(station)}/groups/${encodeURIComponent(group)}`;
  const abort = new AbortController();
  const report = (error: WaystationError) => options.onError?.(error);
  let mode: "websocket" | "poll" = options.transport !== "poll" && typeof WebSocket === "function" ? "websocket" : "poll";

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });

  /** Acks or nacks over HTTP, a few times; then gives up and lets the leases run out. */
  const settle = async (kind: "ack" | "nack", messages: Message[], epoch: number) => {
    if (messages.length === 0) return;
    const targets = settleTargets(messages, epoch);
    const body = JSON.stringify(kind === "ack" ? targets : { ...targets, delayMs: nackDelayMs });
    for (let attempt = 1; attempt <= ACK_ATTEMPTS; attempt++) {
      const outcome = await transport.send("POST", `${path}/${kind}`, body, kind === "ack" ? AckResponseSchema : NackResponseSchema);
      if (outcome.ok) return;
      report(outcome.error);
      if (attempt < ACK_ATTEMPTS) await sleep(backoffDelayMs(attempt, BACKOFF, Math.random, outcome.error.retryAfterMs));
    }
  };

  /** Settles each epoch's messages with one request (a batch normally holds a single epoch). */
  const settleAll = (kind: "ack" | "nack", messages: Message[]) =>
    Promise.all([...byEpoch(messages)].map(([epoch, group]) => settle(kind, group, epoch)));

  /** Runs the handler over a batch in order; which messages to ack and which to nack. */
  const handle = async (messages: Message[]) => {
    const acks: Message[] = [];
    const nacks: Message[] = [];
    for (const message of messages) {
      if (abort.signal.aborted) {
        nacks.push(message);
        continue;
      }
      try {
        await handler(message);
        acks.push(message);
      } catch {
        nacks.push(message);
      }
    }
    return { acks, nacks };
  };

  const poll = async () => {
    let attempt = 0;
    while (!abort.signal.aborted) {
      const body = JSON.stringify({ consumer: name, max, waitMs: attempt > 0 ? 0 : waitMs });
      const outcome = await transport.send("POST", `${path}/fetch`, body, FetchResponseSchema, { timeoutMs: waitMs + 15_000, signal: abort.signal });
      if (abort.signal.aborted) {
        if (outcome.ok) await settleAll("nack", outcome.value.messages);
        return;
      }
      if (!outcome.ok) {
        report(outcome.error);
        await sleep(backoffDelayMs(++attempt, BACKOFF, Math.random, outcome.error.retryAfterMs));
        continue;
      }
      attempt = 0;
      const { acks, nacks } = await handle(outcome.value.messages);
      await Promise.all([settleAll("ack", acks), settleAll("nack", nacks)]);
    }
  };

  /** Set when the server closed the socket because its token expired or was revoked (4001/4003):
   *  the next session asks getToken for a fresh one instead of reusing this one. */
  let staleToken: string | undefined;

  /** One WebSocket session; resolves when it closed, saying whether it ever worked. */
  const subscribe = async (): Promise<boolean> => {
    const token = await transport.bearer(staleToken).catch(() => "");
    staleToken = undefined;
    const query = `?consumer=${encodeURIComponent(name)}&credit=${max}`;
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}${path}/subscribe${query}`, webSocketProtocols(token));
    let worked = false;
    let work = Promise.resolve();
    const send = (frame: ClientFrame) => socket.readyState === WebSocket.OPEN && (socket.send(JSON.stringify(frame)), true);
    const onAbort = () => socket.close(1000, "stopped");
    abort.signal.addEventListener("abort", onAbort, { once: true });
    socket.onmessage = (event) => {
      const reading = readServerFrame(event.data);
      if (!reading.ok) return report(reading.error);
      const { frame } = reading;
      if (frame.type === "subscribed") worked = true;
      else if (frame.type === "error") report(errorFromWire(frame.error));
      else if (frame.type === "messages") {
        worked = true;
        const { messages } = frame;
        work = work.then(async () => {
          const { acks, nacks } = await handle(messages);
          // On the socket when it is still open; over HTTP otherwise (acks are idempotent).
          for (const [epoch, group] of byEpoch(acks)) if (!send({ type: "ack", ...settleTargets(group, epoch) })) await settle("ack", group, epoch);
          for (const [epoch, group] of byEpoch(nacks)) {
            if (!send({ type: "nack", ...settleTargets(group, epoch), delayMs: nackDelayMs })) await settle("nack", group, epoch);
          }
          send({ type: "credit", n: messages.length });
        });
      }
    };
    await new Promise<void>((resolve) => {
      socket.onclose = (event) => {
        if (closeNeedsFreshToken(event.code)) staleToken = token;
        resolve();
      };
    });
    abort.signal.removeEventListener("abort", onAbort);
    await work;
    return worked;
  };

  const run = async () => {
    let failures = 0;
    while (!abort.signal.aborted && mode === "websocket") {
      const worked = await subscribe();
      if (abort.signal.aborted) return;
      failures = worked ? 0 : failures + 1;
      // The token ran out (or was revoked) under a working socket: reconnect at once with a fresh one.
      if (worked && staleToken !== undefined) continue;
      // Never got going: the server or a proxy in between refuses WebSockets; long-poll instead.
      if (!worked && options.transport !== "websocket") mode = "poll";
      else await sleep(backoffDelayMs(Math.max(1, failures), BACKOFF, Math.random));
    }
    await poll();
  };

  const running = run()
    .catch((error) => report(error instanceof WaystationError ? error : new WaystationError("bad_response", String(error))))
    .finally(onStop);

  return {
    get transport() {
      return mode;
    },
    async stop() {
      abort.abort();
      await running;
    },
  };
}

/** Messages by the epoch they carried; a message without one was handed out in epoch 0. */
function byEpoch(messages: readonly Message[]): Map<number, Message[]> {
  const groups = new Map<number, Message[]>();
  for (const message of messages) {
    const epoch = message.epoch ?? 0;
    const group = groups.get(epoch) ?? [];
    group.push(message);
    groups.set(epoch, group);
  }
  return groups;
}
