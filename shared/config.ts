// A station's configuration: the schema of `PUT /v1/stations/{station}` bodies, with defaults.
// Every field is optional on the wire; the parsed value has every default filled in.
import * as v from "valibot";
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_ACK_TIMEOUT_MS,
  MAX_DEDUP_WINDOW_MS,
  MAX_MAX_DELIVERIES,
  MAX_MESSAGE_BYTES_LIMIT,
  MIN_ACK_TIMEOUT_MS,
  MAX_STORAGE_BYTES_LIMIT,
} from "./limits";
import { DocConfigSchema } from "./docs";
import { STATION_NAME_PATTERN } from "./names";
import { intInRange, positiveInt } from "./numbers";
import { PartitionCountSchema } from "./partitions";
import { RateLimitSchema } from "./rate-limits";

/** What a station holds: a plain log of messages, or a collaborative document (yjs updates). */
export const StationKind = { Log: "log", Doc: "doc" } as const;
export type StationKind = (typeof StationKind)[keyof typeof StationKind];

export const RetentionSchema = v.strictObject({
  /** Messages older than this are trimmed. */
  maxAgeMs: v.optional(positiveInt),
  /** At most this many messages are kept; the oldest go first. */
  maxMessages: v.optional(positiveInt),
  /** At most this many bytes (bodies, headers, keys) are kept; the oldest go first. */
  maxBytes: v.optional(positiveInt),
  /** A message is deleted once every group has acked it. */
  untilAcked: v.optional(v.boolean(), false),
  /** Messages trimmed by age, count or bytes are first written to the worker's R2 bucket
   *  (`ARCHIVE`), and replay reads them back from it (docs/archive.md). Needs the binding:
   *  409 `archive_unavailable` without it. Not with `untilAcked` (422 `invalid_request`), which
   *  deletes acked messages outside retention's runs. */
  archive: v.optional(v.boolean(), false),
});

export const SchemaRefSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(STATION_NAME_PATTERN, "Invalid schema name")),
  /** A fixed version, or `latest` to follow new versions. */
  version: v.optional(v.union([positiveInt, v.literal("latest")]), "latest"),
});

export const DlsPolicySchema = v.strictObject({
  /** Schema-failing messages go to the DLS (and the rest are stored) instead of refusing the batch. */
  onSchemaFailure: v.optional(v.boolean(), false),
  /** Messages that ran out of deliveries go to the DLS (otherwise they are dropped, counted). */
  onMaxDeliveries: v.optional(v.boolean(), true),
});

export const StationConfigSchema = v.strictObject({
  kind: v.optional(v.picklist([StationKind.Log, StationKind.Doc]), StationKind.Log),
  retention: v.optional(RetentionSchema, {}),
  maxMessageBytes: v.optional(intInRange(1, MAX_MESSAGE_BYTES_LIMIT), DEFAULT_MAX_MESSAGE_BYTES),
  dedupWindowMs: v.optional(intInRange(0, MAX_DEDUP_WINDOW_MS), DEFAULT_DEDUP_WINDOW_MS),
  ackTimeoutMs: v.optional(intInRange(MIN_ACK_TIMEOUT_MS, MAX_ACK_TIMEOUT_MS), DEFAULT_ACK_TIMEOUT_MS),
  maxDeliveries: v.optional(intInRange(1, MAX_MAX_DELIVERIES), DEFAULT_MAX_DELIVERIES),
  schema: v.optional(v.nullable(SchemaRefSchema), null),
  dls: v.optional(DlsPolicySchema, {}),
  /** For `kind: "doc"`: when updates are merged into a snapshot (shared/docs.ts). */
  doc: v.optional(DocConfigSchema, {}),
  /** Storage quota: a produce that would take the log past it is refused whole with 507
   *  `quota_exceeded`. Left out: the worker's ceiling (STATION_MAX_STORAGE_BYTES, default 1 GiB),
   *  which also caps any value set here. */
  maxStorageBytes: v.optional(intInRange(1, MAX_STORAGE_BYTES_LIMIT)),
  /** This station's request and byte rates, whoever calls (429 `rate_limited` beyond);
   *  shared/limits.ts holds the defaults. */
  rateLimit: v.optional(RateLimitSchema),
  /** How many Durable Objects hold the station (1 to MAX_PARTITIONS, shared/partitions.ts). It
   *  may grow and never shrink (409 `partitions_shrink`); a doc station has exactly 1 (422
   *  `invalid_request`). Order holds per partition, so per key (docs/partitions.md). */
  partitions: v.optional(PartitionCountSchema, 1),
});

export type StationConfigInput = v.InferInput<typeof StationConfigSchema>;
export type StationConfig = v.InferOutput<typeof StationConfigSchema>;
export type Retention = StationConfig["retention"];

/** The config a station gets from an empty `PUT` body. */
export function defaultStationConfig(): StationConfig {
  return v.parse(StationConfigSchema, {});
}
