// Reading a station through a consumer group from the browser: leased messages are handed to
// the app's handler in offset order, acked when it returns and nacked when it throws. The group
// keeps the position on the server; a message whose ack is lost is redelivered (at least once).
import { FetchResponseSchema, AckResponseSchema, NackResponseSchema } from "../shared/groups";
import { MAX_FETCH_MESSAGES, MAX_WAIT_MS } from "../shared/limits";
import type { Message } from "../shared/messages";
import { backoffDelayMs } from "./backoff";
import { WaystationError } from "./errors";
import type { ConsumeOptions, Consumer, MessageHandler } from "./index";
import type { Transport } from "./transport";

const BACKOFF = { baseMs: 500, maxMs: 30_000 };
const ACK_ATTEMPTS = 3;

export function startConsumer(
  transport: Transport,
  _url: string,
  station: string,
  group: string,
  handler: MessageHandler,
  options: ConsumeOptions,
  onStop: () => void,
): Consumer {
  const name = options.consumer ?? `web-${crypto.randomUUID()}`;
  const max = Math.min(Math.max(1, options.max ?? 100), MAX_FETCH_MESSAGES);
  const waitMs = Math.min(Math.max(0, options.waitMs ?? 25_000), MAX_WAIT_MS);
  const nackDelayMs = options.nackDelayMs ?? 1000;
  const base = `/v1/stations/${encodeURIComponent(station)}/groups/${encodeURIComponent(group)}`;
  const abort = new AbortController();
  const report = (error: WaystationError) => options.onError?.(error);

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });

  const settle = async (kind: "ack" | "nack", offsets: number[]) => {
    if (offsets.length === 0) return;
    const body = JSON.stringify(kind === "ack" ? { offsets } : { offsets, delayMs: nackDelayMs });
    const schema = kind === "ack" ? AckResponseSchema : NackResponseSchema;
    for (let attempt = 1; attempt <= ACK_ATTEMPTS; attempt++) {
      const outcome = await transport.send("POST", `${base}/${kind}`, body, schema);
      if (outcome.ok) return;
      report(outcome.error);
      if (attempt < ACK_ATTEMPTS) await sleep(backoffDelayMs(attempt, BACKOFF, Math.random, outcome.error.retryAfterMs));
    }
    // Given up: the leases run out and the group hands the messages out again.
  };

  const handle = async (messages: Message[]) => {
    const acks: number[] = [];
    const nacks: number[] = [];
    for (const message of messages) {
      if (abort.signal.aborted) {
        nacks.push(message.offset);
        continue;
      }
      try {
        await handler(message);
        acks.push(message.offset);
      } catch {
        nacks.push(message.offset);
      }
    }
    await Promise.all([settle("ack", acks), settle("nack", nacks)]);
  };

  const poll = async () => {
    let attempt = 0;
    while (!abort.signal.aborted) {
      const body = JSON.stringify({ consumer: name, max, waitMs: attempt > 0 ? 0 : waitMs });
      const outcome = await transport.send("POST", `${base}/fetch`, body, FetchResponseSchema, { timeoutMs: waitMs + 15_000, signal: abort.signal });
      if (abort.signal.aborted) {
        if (outcome.ok) await settle("nack", outcome.value.messages.map((m) => m.offset));
        return;
      }
      if (!outcome.ok) {
        report(outcome.error);
        attempt++;
        await sleep(backoffDelayMs(attempt, BACKOFF, Math.random, outcome.error.retryAfterMs));
        continue;
      }
      attempt = 0;
      await handle(outcome.value.messages);
    }
  };

  const running = poll()
    .catch((error) => report(error instanceof WaystationError ? error : new WaystationError("bad_response", String(error))))
    .finally(onStop);

  return {
    transport: "poll",
    async stop() {
      abort.abort();
      await running;
    },
  };
}
