// Produce and replay on the wire: the request a producer sends, the answer it gets back,
// and the shape of a message read back from a station.
import * as v from "valibot";
import {
  MAX_BATCH_MESSAGES,
  MAX_HEADER_NAME_LENGTH,
  MAX_HEADER_VALUE_LENGTH,
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_KEY_LENGTH,
  MAX_MESSAGE_DELAY_MS,
  MAX_MESSAGE_ID_LENGTH,
  MAX_READ_LIMIT,
} from "./limits";
import { PRODUCER_ID_PATTERN } from "./names";
import { intInRange, nonNegativeInt, positiveInt } from "./numbers";
import { PartitionCountSchema, PartitionSchema } from "./partitions";
import { utf8Length } from "./utf8";
import type { ValidationIssue } from "./validate";

/** Header names: visible ASCII token characters (as in HTTP), so they are safe as keys anywhere. */
const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** No C0 controls but tab, no DEL: names and ids end up in logs and UIs. */
const NO_CONTROL_CHARS = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;

export const HeadersSchema = v.pipe(
  v.record(
    v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_HEADER_NAME_LENGTH), v.regex(HEADER_NAME_PATTERN, "Invalid header name")),
    v.pipe(v.string(), v.maxLength(MAX_HEADER_VALUE_LENGTH), v.regex(NO_CONTROL_CHARS, "Header values may not hold control characters")),
  ),
  v.check((headers) => Object.keys(headers).length <= MAX_HEADERS, `At most ${MAX_HEADERS} headers`),
  v.check((headers) => headersBytes(headers) <= MAX_HEADERS_BYTES, `Headers may hold at most ${MAX_HEADERS_BYTES} bytes`),
);
export type Headers = v.InferOutput<typeof HeadersSchema>;

export const ProducerIdSchema = v.pipe(v.string(), v.regex(PRODUCER_ID_PATTERN, "Invalid producer id"));

/** A message's `id`: the dedup id of a producer without seq, the action's id with one. */
export const MessageIdSchema = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(MAX_MESSAGE_ID_LENGTH),
  v.regex(NO_CONTROL_CHARS, "Ids may not hold control characters"),
);

export const OutgoingMessageSchema = v.pipe(
  v.strictObject({
    /** The producer's sequence number for this station: 1, 2, 3… Needs `producer`. */
    seq: v.optional(positiveInt),
    /** Any JSON value. */
    body: v.unknown(),
    headers: v.optional(HeadersSchema),
    /** Ordering/partition key, opaque to the station. */
    key: v.optional(v.pipe(v.string(), v.maxLength(MAX_KEY_LENGTH))),
    /** Dedup id for producers without `seq`, honoured within the station's `dedupWindowMs`; with
     *  `seq`, the action's own id, kept with its ruling (a resend with another id is `seq_conflict`). */
    id: v.optional(MessageIdSchema),
    /** Hide the message from groups and webhooks until `delayMs` after the station stores it
     *  (0 to 7 days). It is stored and numbered at once; replay shows it at once. */
    delayMs: v.optional(intInRange(0, MAX_MESSAGE_DELAY_MS)),
    /** The version of the station's schema the producer checked the body against (the SDK stamps
     *  it offline). A station following `latest` judges the message by that version while it
     *  exists; else by its current one (docs/schemas.md). */
    schemaVersion: v.optional(positiveInt),
    /** The schema `schemaVersion` belongs to: a stamp of another schema than the station's is ignored. */
    schemaName: v.optional(v.pipe(v.string(), v.maxLength(MAX_KEY_LENGTH))),
  }),
  v.check((message) => "body" in message && message.body !== undefined, "A message needs a body"),
);
export type OutgoingMessage = v.InferOutput<typeof OutgoingMessageSchema>;

export const ProduceRequestSchema = v.pipe(
  v.strictObject({
    producer: v.optional(ProducerIdSchema),
    /** Send the whole batch to this partition, whatever its keys (the SDK numbers each partition's
     *  stream itself). Without it each message goes to `partitionFor(key, producer)`. */
    partition: v.optional(PartitionSchema),
    messages: v.pipe(
      v.array(OutgoingMessageSchema),
      v.minLength(1, "A batch holds at least one message"),
      v.maxLength(MAX_BATCH_MESSAGES, `A batch holds at most ${MAX_BATCH_MESSAGES} messages`),
    ),
  }),
);
export type ProduceRequest = v.InferOutput<typeof ProduceRequestSchema>;

/**
 * The envelope of a sequenced batch, checked strictly and before any message: a producer, and
 * every message an object with its seq. Each message's content is then checked on its own, and
 * one that fails is ruled refused (`invalid_request`) by the station, its seq consumed.
 */
export const SequencedEnvelopeSchema = v.strictObject({
  producer: ProducerIdSchema,
  partition: v.optional(PartitionSchema),
  messages: v.pipe(
    v.array(v.looseObject({ seq: positiveInt })),
    v.minLength(1, "A batch holds at least one message"),
    v.maxLength(MAX_BATCH_MESSAGES, `A batch holds at most ${MAX_BATCH_MESSAGES} messages`),
  ),
});

/**
 * Why the station will never store a sequenced message: its ruling, kept with the consumed seq
 * and answered again, word for word, to every resend. Details by code:
 * - `message_too_large`: `{bytes, maxMessageBytes}`;
 * - `schema_violation`: `{schema, violations: [{seq, path, keyword, reason, schemaPath}], violationCount: 1}`;
 * - `invalid_doc_update`: nothing more;
 * - `invalid_request`: `{issues: [{path, message}]}`, paths inside the message (`headers.x`, `body.a.0`).
 * None names the message's index in a batch: a resend may place it elsewhere.
 */
export const RefusalSchema = v.looseObject({
  /** One of `REFUSAL_CODES` (shared/producers): a property of the message, not of the moment. */
  code: v.string(),
  message: v.string(),
});
export type Refusal = v.InferOutput<typeof RefusalSchema>;

/**
 * What the station ruled on one message of a batch, in batch order. Exactly one of:
 * stored (`offset`), dead-lettered by the station (`deadLettered`, it holds the message in its
 * DLS) or refused (`refused`, the seq is consumed and the message is never stored). A resend of
 * a ruled seq gets the same ruling with `duplicate: true`.
 */
export const ProduceResultSchema = v.object({
  seq: v.nullable(positiveInt),
  /** The partition that ruled it (0 on an unpartitioned station). Offsets are per partition. */
  partition: PartitionSchema,
  /** The message's offset; `null` for a duplicate whose original was trimmed by retention, for a
   *  message sent to the dead-letter station instead of the log, and for a refused message. */
  offset: v.nullable(positiveInt),
  duplicate: v.boolean(),
  deadLettered: v.optional(v.boolean()),
  refused: v.optional(RefusalSchema),
  /** Not ruled: its partition could not be reached (a batch spanning partitions is ruled part by
   *  part). Nothing was decided about this message; send it again, with the same seq. */
  unruled: v.optional(v.looseObject({ code: v.string(), message: v.string() })),
});
export type ProduceResult = v.InferOutput<typeof ProduceResultSchema>;
/** A ruling as one partition makes it, before its partition is stamped on. */
export type ProduceRuling = Omit<ProduceResult, "partition">;

export const ProduceResponseSchema = v.object({
  results: v.array(ProduceResultSchema),
  /** The station's partition count now: the SDK routes its next streams by it. */
  partitions: v.optional(PartitionCountSchema),
});
export type ProduceResponse = v.InferOutput<typeof ProduceResponseSchema>;

/** A message as read back from a station (replay, fetch, push, webhook). */
export const MessageSchema = v.object({
  /** Its partition (0 on an unpartitioned station); `offset` counts within it. */
  partition: PartitionSchema,
  offset: positiveInt,
  producer: v.nullable(v.string()),
  seq: v.nullable(positiveInt),
  id: v.nullable(v.string()),
  key: v.nullable(v.string()),
  headers: v.record(v.string(), v.string()),
  body: v.unknown(),
  /** Milliseconds since the Unix epoch, when the station stored it. */
  producedAt: nonNegativeInt,
  /** How many times this message was handed out to the reading group (0 for replay). */
  deliveries: nonNegativeInt,
  /** Only on a message produced with `delayMs` > 0: when groups and webhooks may first see it
   *  (`producedAt + delayMs`, ms since the Unix epoch). */
  visibleAt: v.optional(nonNegativeInt),
  /** Only on a message a group handed out after it was moved (`…/seek`): the group's epoch,
   *  which the consumer may send back with its ack so a late ack of a dropped lease counts for nothing. */
  epoch: v.optional(nonNegativeInt),
  /** Only on a message the station checked against its schema: the version it was checked against. */
  schemaVersion: v.optional(positiveInt),
});
export type Message = v.InferOutput<typeof MessageSchema>;

/** `GET /v1/stations/{station}/messages?from=&limit=` */
/**
 * `json`: bodies stored as schema binary (`$binary` under a protobuf or Avro schema) come back as
 * their type's JSON mapping (docs/schemas.md). Taken by replay, group fetch, subscribe and webhooks.
 */
export const DecodeSchema = v.picklist(["json"], "decode must be json");
export type Decode = v.InferOutput<typeof DecodeSchema>;

export const ReadQuerySchema = v.strictObject({
  from: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "from must be an offset"), v.transform(Number), positiveInt)),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,16}$/, "limit must be a count"), v.transform(Number), intInRange(1, MAX_READ_LIMIT)),
  ),
  decode: v.optional(DecodeSchema),
  /** The partition to read (0 by default): offsets are per partition. */
  partition: v.optional(v.pipe(v.string(), v.regex(/^\d{1,2}$/, "partition must be a partition index"), v.transform(Number), PartitionSchema)),
});

export const ReadResponseSchema = v.object({
  messages: v.array(MessageSchema),
  /** Where to read next. */
  nextOffset: positiveInt,
});
export type ReadResponse = v.InferOutput<typeof ReadResponseSchema>;

export function headersBytes(headers: Record<string, string>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) bytes += utf8Length(name) + utf8Length(value);
  return bytes;
}

/**
 * Header names an object cannot carry: valibot's `record` (like any `obj[name] = …`) drops
 * them without a word, so a message holding one would be stored without it. Refused instead.
 */
const UNKEEPABLE_HEADER_NAMES: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Most issues `lostInParsing` reports for one message. */
const MAX_LOSS_ISSUES = 5;

/**
 * What `JSON.parse` took in but the station could not store as sent, in a parsed message:
 * a number beyond a double (`1e400` parses to Infinity and would be stored as `null`) and a
 * header name an object cannot keep (`__proto__`). Paths are inside the message (`body.a.0`,
 * `headers.__proto__`). Iterative, and bounded by the depth the caller already checked.
 *
 * @example lostInParsing(JSON.parse('{"body": {"n": 1e400}}')) // → [{path: "body.n", message: "…"}]
 */
export function lostInParsing(message: unknown): ValidationIssue[] {
  if (typeof message !== "object" || message === null) return [];
  const issues: ValidationIssue[] = [];
  const { headers, body } = message as { headers?: unknown; body?: unknown };
  if (typeof headers === "object" && headers !== null && !Array.isArray(headers)) {
    for (const name of Object.keys(headers)) {
      if (UNKEEPABLE_HEADER_NAMES.has(name)) issues.push({ path: `headers.${name}`, message: `The header name "${name}" is reserved` });
    }
  }
  // Paths are built for containers only (and for a culprit): a body of numbers costs no strings.
  const stack: Array<[unknown, string]> = [[body, "body"]];
  const lost = (path: string) => issues.push({ path, message: "A number too large for JSON to carry (it would be stored as null)" });
  while (stack.length > 0 && issues.length < MAX_LOSS_ISSUES) {
    const [value, path] = stack.pop()!;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) lost(path);
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    const keys = Array.isArray(value) ? null : Object.keys(value);
    const count = keys ? keys.length : (value as unknown[]).length;
    for (let i = 0; i < count; i++) {
      const key = keys ? keys[i]! : i;
      const child = (value as Record<string | number, unknown>)[key];
      if (typeof child === "number") {
        if (!Number.isFinite(child)) lost(`${path}.${key}`);
      } else if (typeof child === "object" && child !== null) stack.push([child, `${path}.${key}`]);
    }
  }
  return issues.slice(0, MAX_LOSS_ISSUES);
}
