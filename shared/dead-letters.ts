// The dead-letter station (DLS) on the wire: why a message landed there, the dead letters
// `GET …/dls` answers with, its query, and the resend body. Every part of a station that
// gives up on a message (groups, schemas, webhooks) files it here with its reason.
import * as v from "valibot";
import { MAX_DLS_LIMIT, MAX_RESEND_IDS } from "./limits";
import { MessageSchema } from "./messages";
import { intInRange, nonNegativeInt, positiveInt } from "./numbers";
import { MAX_PARTITIONS, PartitionSchema } from "./partitions";

/** Why a message is a dead letter. */
export const DeadLetterReason = {
  /** A group handed it out `maxDeliveries` times and never got an ack. */
  MaxDeliveries: "max_deliveries",
  /** Its body failed the station's schema (with `dls.onSchemaFailure`); it never got an offset. */
  SchemaViolation: "schema_violation",
  /** A webhook endpoint failed its last retry; `group` is the endpoint's group. */
  WebhookFailed: "webhook_failed",
  /** Its consumer gave up on it (`POST …/groups/{group}/dead-letter`); `detail.reason` says why. */
  Rejected: "rejected",
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = Object.values(DeadLetterReason);

/** The message a dead letter keeps: the stored message, with `offset` null if it never got one. */
export const DeadLetterMessageSchema = v.object({ ...MessageSchema.entries, offset: v.nullable(positiveInt) });
export type DeadLetterMessage = v.InferOutput<typeof DeadLetterMessageSchema>;

export const DeadLetterSchema = v.object({
  /** Unique within the station, increasing, never reused. */
  id: positiveInt,
  /** The partition that holds it: ids and offsets count within a partition. */
  partition: PartitionSchema,
  offset: v.nullable(positiveInt),
  /** The group that gave up on it; null when no group was involved (schema). */
  group: v.nullable(v.string()),
  reason: v.picklist(DEAD_LETTER_REASONS),
  /** Hand-outs before it landed here (0 for schema failures). */
  deliveries: nonNegativeInt,
  message: DeadLetterMessageSchema,
  /** What the reason's owner recorded (e.g. the schema error, the endpoint's last status). */
  detail: v.nullable(v.record(v.string(), v.unknown())),
  /** When it landed here, milliseconds since the Unix epoch. */
  deadAt: nonNegativeInt,
});
export type DeadLetter = v.InferOutput<typeof DeadLetterSchema>;

/**
 * `GET …/dls`: oldest first, at most `limit` letters and MAX_READ_BYTES of their stored bytes
 * (at least one letter); `next` is the `after` of the following page, null at the end.
 * `evicted`: dead letters ever dropped, oldest first, to keep the DLS within its bound
 * (MAX_DEAD_LETTERS, MAX_DEAD_LETTER_BYTES).
 *
 * On a partitioned station read without `partition`, the page merges every partition's
 * letters (oldest `deadAt` first): ids count per partition, so `next` is null and `cursor`
 * (the `cursor` of the following page, null at the end) pages on.
 */
export const DeadLettersResponseSchema = v.object({
  deadLetters: v.array(DeadLetterSchema),
  next: v.nullable(positiveInt),
  evicted: v.optional(nonNegativeInt),
  cursor: v.optional(v.nullable(v.string())),
});
export type DeadLettersResponse = v.InferOutput<typeof DeadLettersResponseSchema>;

/** The group of a dead letter: a consumer group name, or an endpoint's group (`webhook:<name>`). */
export const DEAD_LETTER_GROUP_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,199}$/;
const GroupFilterSchema = v.pipe(v.string(), v.regex(DEAD_LETTER_GROUP_PATTERN, "Invalid group name"));

const countParam = (max: number, what: string) =>
  v.pipe(v.string(), v.regex(/^\d{1,16}$/, `${what} must be a number`), v.transform(Number), intInRange(1, max));

/** A partition index as a query parameter. */
const partitionParam = v.pipe(v.string(), v.regex(/^\d{1,2}$/, "partition must be a partition index"), v.transform(Number), PartitionSchema);

/** A merged DLS page's cursor: the `after` of each partition, in partition order, dot-separated ("12.0.7"). */
export const DLS_CURSOR_PATTERN = new RegExp(`^\\d{1,16}(\\.\\d{1,16}){0,${MAX_PARTITIONS - 1}}$`);

/** `GET …/dls?group=&reason=&limit=&after=&partition=&cursor=` */
export const DeadLetterQuerySchema = v.strictObject({
  group: v.optional(GroupFilterSchema),
  reason: v.optional(v.picklist(DEAD_LETTER_REASONS, `reason must be one of ${DEAD_LETTER_REASONS.join(", ")}`)),
  limit: v.optional(countParam(MAX_DLS_LIMIT, "limit")),
  /** Only dead letters with a greater id (ids count per partition: with `partition`, or on an unpartitioned station). */
  after: v.optional(countParam(Number.MAX_SAFE_INTEGER, "after")),
  /** Read this partition only (0 to partitions - 1). Without it a partitioned station's every partition is read and merged. */
  partition: v.optional(partitionParam),
  /** Where a merged page (no `partition`) goes on: the `cursor` the previous page answered. */
  cursor: v.optional(v.pipe(v.string(), v.regex(DLS_CURSOR_PATTERN, "cursor must be the cursor a previous page answered"))),
});
export type DeadLetterQuery = v.InferOutput<typeof DeadLetterQuerySchema>;

/** `DELETE …/dls/{id}?partition=P`: the partition the id counts in (0 by default). */
export const DropQuerySchema = v.object({ partition: v.optional(partitionParam) });

/** A dead letter id as a path segment. */
export const DeadLetterIdParamSchema = countParam(Number.MAX_SAFE_INTEGER, "id");

/**
 * `POST …/dls/resend`: put dead letters back. `{ids: [..]}` names them; `{all: true}` takes
 * every dead letter (of `group` / `reason` if given), on every partition. A resent letter leaves the DLS.
 */
export const ResendRequestSchema = v.union([
  v.strictObject({
    ids: v.pipe(
      v.array(positiveInt),
      v.minLength(1, "Name at least one id"),
      v.maxLength(MAX_RESEND_IDS, `At most ${MAX_RESEND_IDS} ids per request`),
    ),
    /** The partition the ids count in (0 by default). */
    partition: v.optional(PartitionSchema),
  }),
  v.strictObject({
    all: v.literal(true),
    group: v.optional(GroupFilterSchema),
    reason: v.optional(v.picklist(DEAD_LETTER_REASONS)),
  }),
]);
export type ResendRequest = v.InferOutput<typeof ResendRequestSchema>;

/** A dead letter left where it is, and why (`code` is an error code of shared/errors.ts). */
export interface ResendRefusal {
  id: number;
  code: string;
  message: string;
}

export interface ResendResponse {
  resent: number;
  /** Ids that were asked for and are not dead letters (any more). */
  missing: number[];
  refused: ResendRefusal[];
  /** More dead letters were asked for than one request resends (MAX_RESEND_ALL letters or
   *  MAX_RESEND_BYTES of them): send the same request again for the rest. */
  more: boolean;
}

export interface DropResponse {
  dropped: number;
  id: number;
}
