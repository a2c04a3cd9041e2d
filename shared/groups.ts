// Consumer groups on the wire: fetch, ack and nack bodies and answers, a group's config and
// stats, and the WebSocket frames of `…/groups/{group}/subscribe`. Both sides import these.
import * as v from "valibot";
import {
  DEFAULT_FETCH_MESSAGES,
  MAX_ACK_OFFSETS,
  MAX_ACK_TIMEOUT_MS,
  MAX_FETCH_MESSAGES,
  MAX_MAX_DELIVERIES,
  MAX_NACK_DELAY_MS,
  MAX_WAIT_MS,
  MIN_ACK_TIMEOUT_MS,
} from "./limits";
import { DecodeSchema, type Message, MessageSchema } from "./messages";
import { CONSUMER_NAME_PATTERN } from "./names";
import { intInRange, nonNegativeInt, positiveInt } from "./numbers";
import { MessageRefListSchema, MessageRefSchema, PartitionSchema } from "./partitions";
import type { GroupSummary } from "./stations";

/** The consumer a fetch leases to when the body names none. */
export const DEFAULT_CONSUMER = "anonymous";

export const ConsumerNameSchema = v.pipe(v.string(), v.regex(CONSUMER_NAME_PATTERN, "Invalid consumer name"));

/** A bounded list of offsets; duplicates are allowed and count once. */
export const OffsetListSchema = v.pipe(
  v.array(positiveInt),
  v.minLength(1, "Name at least one offset"),
  v.maxLength(MAX_ACK_OFFSETS, `At most ${MAX_ACK_OFFSETS} offsets per request`),
);

/**
 * A group's epoch, as a handed-out message carries it (`epoch`): it grows each time the group is
 * moved (`…/seek`). An ack or nack that names it counts for nothing once the group has moved on.
 */
export const EpochSchema = nonNegativeInt;

/**
 * A settle request (ack, nack, extend, dead-letter) names its messages one way: `offsets`
 * (partition 0, with the request's `epoch`) or `messages: [{partition, offset, epoch?}]`.
 */
const settleTargets = { offsets: v.optional(OffsetListSchema), messages: v.optional(MessageRefListSchema) };
function oneSettleForm<T extends { offsets?: unknown; messages?: unknown }>() {
  return v.check<T, string>(
    (request) => (request.offsets === undefined) !== (request.messages === undefined),
    "Name the messages either by offsets or by messages ([{partition, offset}]), not both",
  );
}

/** `POST …/groups/{group}/fetch`: lease up to `max` messages to `consumer`, waiting up to `waitMs`. */
export const FetchRequestSchema = v.strictObject({
  consumer: v.optional(ConsumerNameSchema, DEFAULT_CONSUMER),
  max: v.optional(intInRange(1, MAX_FETCH_MESSAGES), DEFAULT_FETCH_MESSAGES),
  /** 0 answers at once; otherwise an empty answer waits until a message arrives or the time is up. */
  waitMs: v.optional(intInRange(0, MAX_WAIT_MS), 0),
  /** Offsets to ack before leasing (the previous batch): one round trip for both. */
  ack: v.optional(
    v.pipe(v.array(v.union([positiveInt, MessageRefSchema])), v.maxLength(MAX_ACK_OFFSETS, `At most ${MAX_ACK_OFFSETS} offsets per request`)),
    [],
  ),
  /** The epoch the acked messages carried: as `epoch` of an ack. */
  ackEpoch: v.optional(EpochSchema),
  /** `json`: schema binary bodies come back as JSON (as `?decode=json` on replay). */
  decode: v.optional(DecodeSchema),
});
export type FetchRequest = v.InferOutput<typeof FetchRequestSchema>;

/** Leased messages in offset order; each `deliveries` counts this hand-out. `acked` answers `ack`. */
export const FetchResponseSchema = v.object({ messages: v.array(MessageSchema), acked: v.optional(nonNegativeInt) });
export type FetchResponse = { messages: Message[]; acked?: number };

/**
 * `POST …/groups/{group}/ack`: idempotent; offsets not in flight are ignored. With `epoch` (what
 * the messages carried), offsets leased before the group was moved since are ignored too.
 */
export const AckRequestSchema = v.pipe(v.strictObject({ ...settleTargets, epoch: v.optional(EpochSchema) }), oneSettleForm());
export type AckRequest = v.InferOutput<typeof AckRequestSchema>;
/** How many of the offsets this request acked (an offset acked before does not count again). */
export const AckResponseSchema = v.object({ acked: nonNegativeInt });
export type AckResponse = v.InferOutput<typeof AckResponseSchema>;

/** `POST …/groups/{group}/nack`: give leased messages back, handed out again after `delayMs`. `epoch` as for ack. */
export const NackRequestSchema = v.pipe(
  v.strictObject({
    ...settleTargets,
    delayMs: v.optional(intInRange(0, MAX_NACK_DELAY_MS), 0),
    epoch: v.optional(EpochSchema),
  }),
  oneSettleForm(),
);
export type NackRequest = v.InferOutput<typeof NackRequestSchema>;
/** How many leased messages went back (those past `maxDeliveries` went to the DLS and count too). */
export const NackResponseSchema = v.object({ nacked: nonNegativeInt });
export type NackResponse = v.InferOutput<typeof NackResponseSchema>;

/**
 * `POST …/groups/{group}/extend`: a consumer still working on leased messages keeps them for
 * another `ackTimeoutMs` from now. Only leases `consumer` holds and that have not run out count.
 * `epoch` as for ack: leases from before a seek are not extended.
 */
export const ExtendRequestSchema = v.pipe(
  v.strictObject({
    consumer: v.optional(ConsumerNameSchema, DEFAULT_CONSUMER),
    ...settleTargets,
    epoch: v.optional(EpochSchema),
  }),
  oneSettleForm(),
);
export type ExtendRequest = v.InferOutput<typeof ExtendRequestSchema>;
/** How many leases were extended, and until when (ms since the epoch; 0 when none was). */
export const ExtendResponseSchema = v.object({ extended: nonNegativeInt, leaseUntil: nonNegativeInt });
export type ExtendResponse = v.InferOutput<typeof ExtendResponseSchema>;

/** Most characters of the reason a consumer gives when it dead-letters a message. */
export const MAX_DEAD_LETTER_REASON_CHARS = 1000;
const DeadLetterReasonTextSchema = v.pipe(
  v.string(),
  v.minLength(1, "Give a reason"),
  v.maxLength(MAX_DEAD_LETTER_REASON_CHARS, `A reason holds at most ${MAX_DEAD_LETTER_REASON_CHARS} characters`),
);

/**
 * `POST …/groups/{group}/dead-letter`: the consumer gives up on leased messages at once (no
 * further deliveries): they go to the dead-letter station with reason `rejected` and the
 * consumer's `reason` in the letter's detail. Offsets not leased now are ignored; with `epoch`
 * (as for ack), so are leases from before a seek, even once their message went out again.
 */
export const DeadLetterRequestSchema = v.pipe(
  v.strictObject({
    ...settleTargets,
    reason: DeadLetterReasonTextSchema,
    epoch: v.optional(EpochSchema),
  }),
  oneSettleForm(),
);
export type DeadLetterRequest = v.InferOutput<typeof DeadLetterRequestSchema>;
/** How many leased messages left the group (filed, or gone from the log and only counted). */
export const DeadLetterResponseSchema = v.object({ deadLettered: nonNegativeInt });
export type DeadLetterResponse = v.InferOutput<typeof DeadLetterResponseSchema>;

/**
 * Where a new group starts reading: `earliest` (the default: every message still stored),
 * `latest` (only messages produced after it was created), `{offset: N}` (from offset N), or
 * `{last: N}` (the last N messages).
 */
export const StartPositionSchema = v.union([
  v.literal("earliest"),
  v.literal("latest"),
  v.strictObject({ offset: positiveInt }),
  v.strictObject({ last: intInRange(1, Number.MAX_SAFE_INTEGER) }),
]);
export type StartPosition = v.InferOutput<typeof StartPositionSchema>;

/**
 * `PUT …/groups/{group}`: create a group or change its overrides. `null` (or absent) follows
 * the station's `ackTimeoutMs` / `maxDeliveries`. `start` applies when the group is created.
 */
export const GroupConfigSchema = v.strictObject({
  start: v.optional(StartPositionSchema),
  ackTimeoutMs: v.optional(v.nullable(intInRange(MIN_ACK_TIMEOUT_MS, MAX_ACK_TIMEOUT_MS))),
  maxDeliveries: v.optional(v.nullable(intInRange(1, MAX_MAX_DELIVERIES))),
});
export type GroupConfig = v.InferOutput<typeof GroupConfigSchema>;

/**
 * `POST …/groups/{group}/seek`: moves the group. `earliest` (the log's head), `latest` (after the
 * last message), `{offset: N}` (N is the next to hand out) or `{time: ms}` (the first message
 * produced at or after `ms`). Below the new position counts as acked, from it on as never handed
 * out; leases in flight are dropped, and the group's `epoch` grows.
 */
export const SeekTargetSchema = v.union([
  v.literal("earliest"),
  v.literal("latest"),
  /** On a partitioned station an offset seek names its partition (0 by default); the others stay. */
  v.strictObject({ offset: positiveInt, partition: v.optional(PartitionSchema) }),
  /** A time seek moves every partition. */
  v.strictObject({ time: nonNegativeInt }),
]);
export type SeekTarget = v.InferOutput<typeof SeekTargetSchema>;
export const SeekRequestSchema = v.strictObject({ to: SeekTargetSchema });
export type SeekRequest = v.InferOutput<typeof SeekRequestSchema>;

/** The group as it stands after the seek (ackFloor, pending, lag…), and how many leases were dropped. */
export interface SeekResponse extends GroupInfo {
  dropped: number;
}

/** At most this many consumers in a group's `consumers` (the most recently seen). */
export const MAX_CONSUMERS_IN_INFO = 20;

/** A consumer a group has seen fetch or subscribe. */
export interface GroupConsumer {
  name: string;
  /** Its latest fetch, subscribe or hand-out to its socket (ms since the epoch). */
  lastSeenAt: number;
  /** Messages leased to it now. */
  pending: number;
}

/** One partition's part of a group on a partitioned station, within that partition's log. */
export interface GroupPartitionInfo {
  partition: number;
  ackFloor: number;
  nextOffset: number;
  pending: number;
  lag: number;
  redeliveries: number;
  delayed: number;
  deadLetters: number;
  delivered: number;
  acked: number;
  discarded: number;
  skipped: number;
  epoch: number;
}

/** A group as `GET …/groups/{group}` and the station's `groups` list show it. */
export interface GroupInfo extends GroupSummary {
  /** The next offset never handed out to this group. */
  nextOffset: number;
  /** Handed out before, waiting to be handed out again (nacked or lease ran out). */
  redeliveries: number;
  /** Hand-outs ever (each redelivery counts). */
  delivered: number;
  /** Delayed messages (`delayMs`) the group passed over and hands out once their time comes. */
  delayed: number;
  /** How many times the group was moved (`…/seek`); handed-out messages carry it once it is above 0. */
  epoch: number;
  /** Acks ever. */
  acked: number;
  /** Ran out of deliveries while `dls.onMaxDeliveries` was off: dropped, counted. */
  discarded: number;
  /** Trimmed by retention before the group handed them out or got their ack. */
  skipped: number;
  /** The settings in force: the group's overrides, else the station's. */
  ackTimeoutMs: number;
  maxDeliveries: number;
  /** The overrides as set (null follows the station). */
  overrides: { ackTimeoutMs: number | null; maxDeliveries: number | null };
  start: StartPosition;
  createdAt: number;
  /**
   * The consumers seen most recently, newest first (at most MAX_CONSUMERS_IN_INFO). Optional
   * on the wire: a client must read its absence as "not reported", not as "none".
   */
  consumers?: GroupConsumer[];
  /**
   * On a partitioned station only: each partition's own figures. The counts above are summed
   * over them; `ackFloor`, `nextOffset` and `epoch` above are partition 0's.
   */
  partitions?: GroupPartitionInfo[];
}

// ---- WebSocket frames (`GET …/groups/{group}/subscribe?consumer=…&credit=…`) ----

/** Most bytes of one client frame: an ack of MAX_ACK_OFFSETS offsets fits with room to spare. */
export const MAX_GROUP_CLIENT_FRAME_BYTES = 64 * 1024;

/** Optional correlation a client may put on a frame; the answer to it carries the same `ref`. */
const RefSchema = v.optional(v.pipe(v.string(), v.maxLength(64)));

/** Client → server. `credit` lets the server push `n` more messages; acks, nacks, extends and dead-letters as over HTTP. */
export const ClientFrameSchema = v.variant("type", [
  v.strictObject({ type: v.literal("credit"), n: intInRange(1, MAX_FETCH_MESSAGES), ref: RefSchema }),
  v.strictObject({ type: v.literal("ack"), ...settleTargets, epoch: v.optional(EpochSchema), ref: RefSchema }),
  v.strictObject({
    type: v.literal("nack"),
    ...settleTargets,
    delayMs: v.optional(intInRange(0, MAX_NACK_DELAY_MS), 0),
    epoch: v.optional(EpochSchema),
    ref: RefSchema,
  }),
  /** As `POST …/extend`, for the leases this socket's consumer holds. */
  v.strictObject({ type: v.literal("extend"), ...settleTargets, epoch: v.optional(EpochSchema), ref: RefSchema }),
  /** As `POST …/dead-letter`. */
  v.strictObject({
    type: v.literal("dead-letter"),
    ...settleTargets,
    reason: DeadLetterReasonTextSchema,
    epoch: v.optional(EpochSchema),
    ref: RefSchema,
  }),
]);
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;

/** An error a frame reports: a code of shared/errors.ts, a message, maybe details. */
const FrameErrorSchema = v.looseObject({ code: v.string(), message: v.string() });

/**
 * Server → client, validated on receipt (the SDK reports a frame that does not match as
 * `bad_response` and drops it). `messages` spends credit; `credit` in it is what is left. An
 * answer to a client frame has the fields of the HTTP answer to the same request, and its `ref`.
 */
export const ServerFrameSchema = v.variant("type", [
  v.object({ type: v.literal("subscribed"), group: v.string(), consumer: v.string(), credit: nonNegativeInt }),
  v.object({ type: v.literal("messages"), messages: v.array(MessageSchema), credit: nonNegativeInt }),
  v.object({ type: v.literal("acked"), ...AckResponseSchema.entries, ref: RefSchema }),
  v.object({ type: v.literal("nacked"), ...NackResponseSchema.entries, ref: RefSchema }),
  v.object({ type: v.literal("extended"), ...ExtendResponseSchema.entries, ref: RefSchema }),
  v.object({ type: v.literal("dead-lettered"), ...DeadLetterResponseSchema.entries, ref: RefSchema }),
  v.object({ type: v.literal("error"), error: FrameErrorSchema, ref: RefSchema }),
]);
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

/** Query of the subscribe route. */
export const SubscribeQuerySchema = v.strictObject({
  consumer: v.optional(ConsumerNameSchema, DEFAULT_CONSUMER),
  /** Credit granted up front, as if the first frame were `{"type":"credit","n":credit}`. */
  credit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,7}$/, "credit must be a count"), v.transform(Number), intInRange(0, MAX_FETCH_MESSAGES)),
    "0",
  ),
  /** `json`: pushed schema binary bodies come as JSON (as `?decode=json` on replay). */
  decode: v.optional(DecodeSchema),
});
