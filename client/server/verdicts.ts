// The consumer's verdicts on leased messages — ack, nack, extend, dead-letter — and the credit
// it grants: on the subscribe socket while one is open (each frame carries a `ref`, answered by
// the server with the same `ref`), over HTTP otherwise or when the socket closes before the
// answer (each verdict is idempotent on the station, so sending it twice does no harm). Acks
// and nacks made in the same tick go out as one frame or request. Messages are named by offsets
// while all are partition 0's, else by `{partition, offset, epoch}` (client/settle-targets.ts).
import * as v from "valibot";
import { AckResponseSchema, type ClientFrame, DeadLetterResponseSchema, ExtendResponseSchema, NackResponseSchema, type ServerFrame } from "../../shared/groups";
import { MAX_ACK_OFFSETS } from "../../shared/limits";
import { backoffDelayMs } from "../backoff";
import { errorFromWire, WaystationError } from "../errors";
import { settleTargets } from "../settle-targets";
import type { Transport } from "../transport";
import { sleep } from "./ids";

/** A message a verdict is about: its partition and its offset there. */
export interface Target {
  partition: number;
  offset: number;
}

export interface Verdicts {
  /** `epoch`: what the message carried (after a seek); a verdict on a lease the move dropped then counts for nothing. */
  ack(target: Target, epoch?: number): Promise<void>;
  nack(target: Target, delayMs: number, epoch?: number): Promise<void>;
  nackMany(targets: Target[], delayMs: number): Promise<void>;
  /** True when the lease was extended; false when it was already lost. */
  extend(target: Target, epoch?: number): Promise<boolean>;
  deadLetter(target: Target, reason: string, epoch?: number): Promise<void>;
  /** `n` slots freed: grants that much credit on the socket. */
  freed(n: number): void;
  /** A new socket is about to open with credit for every free slot: forget credit not yet sent. */
  resetCredit(): void;
  attach(socket: WebSocket): void;
  detach(socket: WebSocket): void;
  onFrame(frame: ServerFrame): void;
  /** The answer to the frame with this `ref` came and could not be read: that verdict goes over HTTP. */
  unanswered(ref: string): void;
  /** Resolves when every verdict made so far has been answered (or given up on). */
  settled(): Promise<void>;
}

const ATTEMPTS = 5;
const BACKOFF = { baseMs: 200, maxMs: 5_000 };
/** An answer on the socket later than this: the verdict goes over HTTP, and the socket, which
 *  may be half-open (a restart or a proxy dropped it silently), is closed to be opened again. */
const SOCKET_ANSWER_MS = 5_000;

type Answer = Extract<ServerFrame, { type: "acked" | "nacked" | "extended" | "dead-lettered" | "error" }>;

export function createVerdicts(transport: Transport, path: string, consumer: string, report: (error: WaystationError) => void): Verdicts {
  let socket: WebSocket | undefined;
  let nextRef = 0;
  const waitingAnswers = new Map<string, (answer: Answer | null) => void>();
  const inFlight = new Set<Promise<unknown>>();
  /** Waiting to go out, by epoch (acks) and by delay and epoch (nacks): one frame or request each. */
  const acks = new Map<number | undefined, Array<{ target: Target; done: () => void }>>();
  const nacks = new Map<string, { delayMs: number; epoch?: number; list: Array<{ target: Target; done: () => void }> }>();
  let credit = 0;
  let flushQueued = false;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    promise.finally(() => inFlight.delete(promise)).catch(() => {});
    return promise;
  };

  /** Sends a frame and waits for its answer; null when there is no open socket or no answer came. */
  const overSocket = (frame: ClientFrame): Promise<Answer | null> => {
    const open = socket;
    if (!open || open.readyState !== 1) return Promise.resolve(null);
    const ref = `v${++nextRef}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        finish(null);
        try {
          open.close(4000, "no answer");
        } catch {
          // closing already
        }
      }, SOCKET_ANSWER_MS);
      const finish = (answer: Answer | null) => {
        clearTimeout(timer);
        waitingAnswers.delete(ref);
        resolve(answer);
      };
      waitingAnswers.set(ref, finish);
      try {
        open.send(JSON.stringify({ ...frame, ref }));
      } catch {
        finish(null);
      }
    });
  };

  /** POSTs a verdict, retried with backoff; the parsed answer, or null after the last attempt. */
  const overHttp = async <S extends v.GenericSchema>(route: string, body: object, schema: S): Promise<v.InferOutput<S> | null> => {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const outcome = await transport.send("POST", `${path}/${route}`, JSON.stringify(body), schema);
      if (outcome.ok) return outcome.value;
      report(outcome.error);
      // A refusal (bad request, no group, no right) will not pass by retrying.
      if (outcome.error.status >= 400 && outcome.error.status < 500 && outcome.error.status !== 429) return null;
      if (attempt < ATTEMPTS) await sleep(backoffDelayMs(attempt, BACKOFF, Math.random, outcome.error.retryAfterMs));
    }
    return null;
  };

  /** A verdict on the socket, or over HTTP if the socket cannot answer it. */
  const decide = async <S extends v.GenericSchema>(frame: ClientFrame, route: string, body: object, schema: S): Promise<v.InferOutput<S> | null> => {
    const answer = await overSocket(frame);
    if (answer?.type === "error") report(errorFromWire(answer.error));
    else if (answer) {
      // An answer of another kind than the verdict asked for is no answer to it.
      const fits = v.safeParse(schema, answer);
      if (fits.success) return fits.output;
      report(new WaystationError("bad_response", `A ${answer.type} frame answered a ${frame.type} frame`));
    }
    return overHttp(route, body, schema);
  };

  const flush = () => {
    flushQueued = false;
    if (credit > 0 && socket?.readyState === 1) {
      try {
        socket.send(JSON.stringify({ type: "credit", n: credit }));
        credit = 0;
      } catch {
        // closed meanwhile: the next socket starts with credit for every free slot
      }
    }
    for (const [epoch, list] of acks) {
      acks.delete(epoch);
      for (const part of chunks(list)) {
        const body = settleTargets(part.map((a) => a.target), epoch);
        void track(decide({ type: "ack", ...body }, "ack", body, AckResponseSchema).then(() => part.forEach((a) => a.done())));
      }
    }
    for (const [key, { delayMs, epoch, list }] of nacks) {
      nacks.delete(key);
      for (const part of chunks(list)) {
        const body = { ...settleTargets(part.map((n) => n.target), epoch), delayMs };
        void track(decide({ type: "nack", ...body }, "nack", body, NackResponseSchema).then(() => part.forEach((n) => n.done())));
      }
    }
  };
  const queueFlush = () => {
    if (!flushQueued) {
      flushQueued = true;
      setTimeout(flush, 0);
    }
  };

  return {
    ack: (target, epoch) =>
      track(
        new Promise<void>((done) => {
          const list = acks.get(epoch) ?? [];
          list.push({ target, done });
          acks.set(epoch, list);
          queueFlush();
        }),
      ),
    nack: (target, delayMs, epoch) =>
      track(
        new Promise<void>((done) => {
          const key = `${delayMs}:${epoch ?? ""}`;
          const entry = nacks.get(key) ?? { delayMs, epoch, list: [] };
          entry.list.push({ target, done });
          nacks.set(key, entry);
          queueFlush();
        }),
      ),
    async nackMany(targets, delayMs) {
      for (const part of chunks(targets)) await track(overHttp("nack", { ...settleTargets(part), delayMs }, NackResponseSchema));
    },
    async extend(target, epoch) {
      const body = settleTargets([target], epoch);
      const answer = await track(decide({ type: "extend", ...body }, "extend", { consumer, ...body }, ExtendResponseSchema));
      return (answer?.extended ?? 0) > 0;
    },
    async deadLetter(target, reason, epoch) {
      const body = { ...settleTargets([target], epoch), reason };
      await track(decide({ type: "dead-letter", ...body }, "dead-letter", body, DeadLetterResponseSchema));
    },
    freed(n) {
      credit += n;
      queueFlush();
    },
    resetCredit() {
      credit = 0;
    },
    attach(open) {
      socket = open;
      if (credit > 0) queueFlush();
    },
    detach(closed) {
      if (socket === closed) socket = undefined;
      // Frames sent on it and not answered: each goes over HTTP now.
      for (const finish of [...waitingAnswers.values()]) finish(null);
    },
    onFrame(frame) {
      if (!("ref" in frame) || frame.ref === undefined) {
        if (frame.type === "error") report(errorFromWire(frame.error));
        return;
      }
      waitingAnswers.get(frame.ref)?.(frame);
    },
    unanswered(ref) {
      waitingAnswers.get(ref)?.(null);
    },
    async settled() {
      flush();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += MAX_ACK_OFFSETS) out.push(list.slice(i, i + MAX_ACK_OFFSETS));
  return out;
}
