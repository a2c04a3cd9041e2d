// Valibot schemas of the answers that shared/ states only as TypeScript types (station info,
// group info, webhook endpoints, schema versions, minted tokens…), so the OpenAPI document can
// be generated from schemas. Each is pinned to its type: if the type changes, this stops compiling.
import * as v from "valibot";
import { StationConfigSchema } from "../config";
import type { DropResponse, ResendResponse } from "../dead-letters";
import { ErrorCode } from "../errors";
import { type GroupInfo, type SeekResponse, StartPositionSchema } from "../groups";
import { MessageSchema } from "../messages";
import { nonNegativeInt, positiveInt } from "../numbers";
import {
  CompatibilityRule,
  CompatibilitySchema,
  SchemaDraft,
  SchemaFormatSchema,
  type PutSchemaResponse,
  type SchemaListResponse,
  type SchemaVersionsResponse,
} from "../schemas";
import type { StationInfo, StationListEntry } from "../stations";
import { type MintTokenResponse, TokenClaimsSchema } from "../tokens";
import { PROTOCOL_VERSION } from "../version";
import {
  DeliveryOutcome,
  DisabledReason,
  type PutWebhookResponse,
  type WebhookListResponse,
  type WebhookPayload,
  WebhookFilterSchema,
} from "../webhooks";

/** True when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** An intersection as one object type, so Equal compares its members. */
type Flat<T> = { [K in keyof T]: T[K] };
/** Fails to compile unless its argument is `true`. */
type Assert<T extends true> = T;

const timestamp = nonNegativeInt;
const nullableTimestamp = v.nullable(nonNegativeInt);

export const StationStatsSchema = v.object({
  firstOffset: nonNegativeInt,
  lastOffset: nonNegativeInt,
  messages: nonNegativeInt,
  bytes: nonNegativeInt,
  produced: nonNegativeInt,
  deadLetters: nonNegativeInt,
  delivered: nonNegativeInt,
  delayed: nonNegativeInt,
  storedBytes: nonNegativeInt,
  archivedMessages: nonNegativeInt,
  archivedBytes: nonNegativeInt,
});

const groupSummaryEntries = {
  name: v.string(),
  ackFloor: nonNegativeInt,
  pending: nonNegativeInt,
  lag: nonNegativeInt,
  deadLetters: nonNegativeInt,
};
export const GroupSummarySchema = v.object(groupSummaryEntries);

export const ThroughputBucketSchema = v.object({ at: timestamp, produced: nonNegativeInt, delivered: nonNegativeInt });

export const PartitionInfoSchema = v.object({
  partition: nonNegativeInt,
  stats: StationStatsSchema,
  groups: v.array(GroupSummarySchema),
});

export const StationInfoSchema = v.object({
  name: v.string(),
  config: StationConfigSchema,
  stats: StationStatsSchema,
  groups: v.array(GroupSummarySchema),
  partitions: v.optional(v.array(PartitionInfoSchema)),
  throughput: v.array(ThroughputBucketSchema),
  createdAt: timestamp,
  updatedAt: timestamp,
});
type _StationInfo = Assert<Equal<v.InferOutput<typeof StationInfoSchema>, StationInfo>>;

export const StationListEntrySchema = v.object({ name: v.string(), config: StationConfigSchema, createdAt: timestamp, updatedAt: timestamp });
type _StationListEntry = Assert<Equal<v.InferOutput<typeof StationListEntrySchema>, StationListEntry>>;
export const StationListSchema = v.object({ stations: v.array(StationListEntrySchema) });

/** `DELETE` of a station, group or webhook endpoint. */
export const DeletedSchema = v.object({ name: v.string(), deleted: v.literal(true) });

export const GroupConsumerSchema = v.object({ name: v.string(), lastSeenAt: timestamp, pending: nonNegativeInt });

export const GroupPartitionInfoSchema = v.object({
  partition: nonNegativeInt,
  ackFloor: nonNegativeInt,
  nextOffset: positiveInt,
  pending: nonNegativeInt,
  lag: nonNegativeInt,
  redeliveries: nonNegativeInt,
  delayed: nonNegativeInt,
  deadLetters: nonNegativeInt,
  delivered: nonNegativeInt,
  acked: nonNegativeInt,
  discarded: nonNegativeInt,
  skipped: nonNegativeInt,
  epoch: nonNegativeInt,
});

export const GroupInfoSchema = v.object({
  ...groupSummaryEntries,
  nextOffset: positiveInt,
  redeliveries: nonNegativeInt,
  delivered: nonNegativeInt,
  delayed: nonNegativeInt,
  epoch: nonNegativeInt,
  acked: nonNegativeInt,
  discarded: nonNegativeInt,
  skipped: nonNegativeInt,
  ackTimeoutMs: positiveInt,
  maxDeliveries: positiveInt,
  overrides: v.object({ ackTimeoutMs: v.nullable(positiveInt), maxDeliveries: v.nullable(positiveInt) }),
  start: StartPositionSchema,
  createdAt: timestamp,
  consumers: v.optional(v.array(GroupConsumerSchema)),
  partitions: v.optional(v.array(GroupPartitionInfoSchema)),
});
type _GroupInfo = Assert<Equal<v.InferOutput<typeof GroupInfoSchema>, GroupInfo>>;
/** `POST …/groups/{group}/seek`: the group after the move, and the leases it dropped. */
export const SeekResponseSchema = v.object({ ...GroupInfoSchema.entries, dropped: nonNegativeInt });
type _SeekResponse = Assert<Equal<v.InferOutput<typeof SeekResponseSchema>, Flat<SeekResponse>>>;

export const ResendResponseSchema = v.object({
  resent: nonNegativeInt,
  missing: v.array(positiveInt),
  refused: v.array(v.object({ id: positiveInt, code: v.string(), message: v.string() })),
  more: v.boolean(),
});
type _ResendResponse = Assert<Equal<v.InferOutput<typeof ResendResponseSchema>, ResendResponse>>;

export const DropResponseSchema = v.object({ dropped: nonNegativeInt, id: positiveInt });
type _DropResponse = Assert<Equal<v.InferOutput<typeof DropResponseSchema>, DropResponse>>;

const DeliveryAttemptSchema = v.object({
  offset: positiveInt,
  attempt: positiveInt,
  at: timestamp,
  status: v.nullable(nonNegativeInt),
  error: v.nullable(v.string()),
  durationMs: nonNegativeInt,
  outcome: v.picklist(Object.values(DeliveryOutcome)),
});

const WebhookCursorSchema = v.object({
  nextOffset: positiveInt,
  ackFloor: nonNegativeInt,
  pending: nonNegativeInt,
  inFlight: nonNegativeInt,
  lag: nonNegativeInt,
  nextAttemptAt: nullableTimestamp,
});
const WebhookHealthSchema = v.object({
  lastStatus: v.nullable(nonNegativeInt),
  lastError: v.nullable(v.string()),
  lastAttemptAt: nullableTimestamp,
  lastSuccessAt: nullableTimestamp,
  consecutiveFailures: nonNegativeInt,
  failingSince: nullableTimestamp,
  delivered: nonNegativeInt,
  deadLettered: nonNegativeInt,
});

const webhookInfoEntries = {
  url: v.string(),
  ordered: v.boolean(),
  maxInFlight: positiveInt,
  filter: v.nullable(WebhookFilterSchema),
  retry: v.object({ scheduleMs: v.array(nonNegativeInt) }),
  timeoutMs: positiveInt,
  disableAfterMs: nonNegativeInt,
  rotationGraceMs: nonNegativeInt,
  name: v.string(),
  group: v.string(),
  enabled: v.boolean(),
  disabledAt: nullableTimestamp,
  disabledReason: v.nullable(v.picklist(Object.values(DisabledReason))),
  previousSecretExpiresAt: nullableTimestamp,
  previousSecretsExpireAt: v.array(timestamp),
  createdAt: timestamp,
  updatedAt: timestamp,
  cursor: WebhookCursorSchema,
  health: WebhookHealthSchema,
  recent: v.array(DeliveryAttemptSchema),
  /** On a partitioned station, each partition's delivery (the fields above are partition 0's). */
  partitions: v.optional(v.array(v.object({ partition: nonNegativeInt, cursor: WebhookCursorSchema, health: WebhookHealthSchema }))),
};
export const WebhookInfoSchema = v.object(webhookInfoEntries);
/** The PUT answer: the endpoint, plus its secret when this PUT generated it (shown once). */
export const PutWebhookResponseSchema = v.object({ ...webhookInfoEntries, secret: v.optional(v.string()) });
type _PutWebhookResponse = Assert<Equal<v.InferOutput<typeof PutWebhookResponseSchema>, PutWebhookResponse>>;
export const WebhookListSchema = v.object({ webhooks: v.array(WebhookInfoSchema) });
type _WebhookList = Assert<Equal<v.InferOutput<typeof WebhookListSchema>, WebhookListResponse>>;

/** The JSON body of each webhook delivery: the message as read back, plus its station. */
export const WebhookPayloadSchema = v.object({ ...MessageSchema.entries, station: v.string() });
type _WebhookPayload = Assert<Equal<v.InferOutput<typeof WebhookPayloadSchema>, Flat<WebhookPayload>>>;

const SchemaDraftSchema = v.picklist(Object.values(SchemaDraft));
const schemaVersionEntries = {
  name: v.string(),
  version: positiveInt,
  format: SchemaFormatSchema,
  draft: SchemaDraftSchema,
  description: v.nullable(v.string()),
  schema: v.unknown(),
  createdAt: timestamp,
};
export const SchemaVersionSchema = v.object(schemaVersionEntries);
export const PutSchemaResponseSchema = v.object({ ...schemaVersionEntries, created: v.boolean(), compatibility: CompatibilitySchema });
type _PutSchemaResponse = Assert<Equal<v.InferOutput<typeof PutSchemaResponseSchema>, PutSchemaResponse>>;
export const SchemaVersionsResponseSchema = v.object({
  name: v.string(),
  latestVersion: positiveInt,
  compatibility: CompatibilitySchema,
  versions: v.array(SchemaVersionSchema),
});
type _SchemaVersions = Assert<Equal<v.InferOutput<typeof SchemaVersionsResponseSchema>, SchemaVersionsResponse>>;
export const SchemaListResponseSchema = v.object({
  schemas: v.array(
    v.object({
      name: v.string(),
      latestVersion: positiveInt,
      compatibility: CompatibilitySchema,
      description: v.nullable(v.string()),
      draft: SchemaDraftSchema,
      createdAt: timestamp,
      updatedAt: timestamp,
    }),
  ),
});
type _SchemaList = Assert<Equal<v.InferOutput<typeof SchemaListResponseSchema>, SchemaListResponse>>;

export const MintTokenResponseSchema = v.object({ token: v.string(), claims: TokenClaimsSchema, expiresAt: timestamp });
type _MintTokenResponse = Assert<Equal<v.InferOutput<typeof MintTokenResponseSchema>, MintTokenResponse>>;

/** `GET /healthz` (worker/routes/health.ts). */
export const HealthSchema = v.object({ ok: v.literal(true), protocol: v.literal(PROTOCOL_VERSION), configured: v.boolean() });

/** The details a client acts on, by code (what shared/errors.ts says each one carries). */
const ERROR_DETAILS: Partial<Record<ErrorCode, v.ObjectEntries>> = {
  [ErrorCode.SeqGap]: { producer: v.string(), expectedSeq: positiveInt, receivedSeq: positiveInt },
  [ErrorCode.SeqConflict]: { producer: v.string(), seq: positiveInt, expectedSeq: positiveInt },
  [ErrorCode.InvalidRequest]: { issues: v.optional(v.array(v.object({ path: v.string(), message: v.string() }))) },
  [ErrorCode.RateLimited]: { scope: v.optional(v.string()), retryAfterSeconds: v.optional(nonNegativeInt) },
  [ErrorCode.Unavailable]: { retryAfterSeconds: v.optional(nonNegativeInt) },
  [ErrorCode.InvalidWebhookUrl]: { reason: v.string() },
  [ErrorCode.PartitionsShrink]: { partitions: positiveInt },
  [ErrorCode.PartitionOutOfRange]: { partitions: positiveInt },
  [ErrorCode.IncompatibleSchema]: {
    schema: v.string(),
    compatibility: CompatibilitySchema,
    latestVersion: positiveInt,
    breaks: v.array(v.object({ path: v.string(), rule: v.picklist(Object.values(CompatibilityRule)), message: v.string() })),
  },
};

/**
 * The body of a refused request with one of `codes`: `{"error": {"code", "message", …details}}`
 * (shared/errors.ts), one variant per code so a typed client narrows on `code`. More details
 * than those named here may come.
 */
export function errorBodySchema(codes: readonly ErrorCode[]) {
  const variants = codes.map((code) => v.looseObject({ code: v.literal(code), message: v.string(), ...ERROR_DETAILS[code] }));
  return v.object({ error: variants.length === 1 ? variants[0]! : v.union(variants) });
}
/** Every error body, whatever the code. */
export const ErrorBodySchema = errorBodySchema(Object.values(ErrorCode));
