// The HTTP routes as data, for the OpenAPI document: method, path, the right it needs, its
// query and body schemas (shared/), its answers per status, and the error codes only it can
// answer with. Codes every route shares (auth, body, names) are added by document.ts.
import type * as v from "valibot";
import { StationConfigSchema } from "../config";
import { DeadLetterQuerySchema, DeadLettersResponseSchema, DropQuerySchema, ResendRequestSchema } from "../dead-letters";
import { DocQuerySchema, DocRequestSchema, DocStateSchema } from "../docs";
import { ErrorCode } from "../errors";
import {
  AckRequestSchema,
  AckResponseSchema,
  DeadLetterRequestSchema,
  DeadLetterResponseSchema,
  ExtendRequestSchema,
  ExtendResponseSchema,
  FetchRequestSchema,
  FetchResponseSchema,
  GroupConfigSchema,
  NackRequestSchema,
  NackResponseSchema,
  SeekRequestSchema,
  SubscribeQuerySchema,
} from "../groups";
import { ProduceRequestSchema, ProduceResponseSchema, ReadQuerySchema, ReadResponseSchema } from "../messages";
import { PutSchemaRequestSchema, StationSchemaResponseSchema } from "../schemas";
import { MintTokenRequestSchema } from "../tokens";
import { PutWebhookRequestSchema, ReplayWebhookRequestSchema } from "../webhooks";
import {
  DeletedSchema,
  DropResponseSchema,
  GroupInfoSchema,
  HealthSchema,
  MintTokenResponseSchema,
  PutSchemaResponseSchema,
  PutWebhookResponseSchema,
  ResendResponseSchema,
  SeekResponseSchema,
  SchemaListResponseSchema,
  SchemaVersionSchema,
  SchemaVersionsResponseSchema,
  StationInfoSchema,
  StationListSchema,
  WebhookInfoSchema,
  WebhookListSchema,
} from "./answers";

/** Who may call a route: `public` needs no token, `any` any valid token, `admin` the ADMIN_TOKEN only. */
export type RouteRight = "public" | "any" | "produce" | "consume" | "manage" | "manage everywhere" | "admin";

export interface RouteAnswer {
  description: string;
  /** The JSON body; absent for an answer without one (101). */
  schema?: v.GenericSchema;
  /** Another media type the route may answer with instead, described in words. */
  alternative?: { mediaType: string; description: string };
}

export interface RouteSpec {
  method: "get" | "put" | "post" | "delete";
  /** An OpenAPI path template; its `{params}` are described in document.ts (PATH_PARAMS). */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  right: RouteRight;
  query?: v.ObjectSchema<v.ObjectEntries, undefined> | v.StrictObjectSchema<v.ObjectEntries, undefined>;
  body?: { schema: v.GenericSchema; required: boolean; description?: string };
  answers: Record<number, RouteAnswer>;
  /** Codes this route answers beside the ones every route of its kind shares. */
  errors: ErrorCode[];
  /** A WebSocket upgrade (101); described, but OpenAPI has no words for the frames. */
  webSocket?: boolean;
}

const station = "/v1/stations/{station}";
const group = `${station}/groups/{group}`;
const webhook = `${station}/webhooks/{webhook}`;

/** Every route the worker serves, but /openapi.json itself (document.ts adds it). */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: "get", path: "/healthz", operationId: "getHealth", tag: "health", right: "public",
    summary: "Whether the worker serves, its protocol version and whether it has its secrets",
    answers: { 200: { description: "Serving", schema: HealthSchema } }, errors: [],
  },
  {
    method: "get", path: "/metrics", operationId: "getMetrics", tag: "health", right: "manage",
    summary: "Prometheus text exposition of the stations the token may manage",
    answers: { 200: { description: "Prometheus text format 0.0.4", alternative: { mediaType: "text/plain", description: "Prometheus exposition" } } },
    errors: [],
  },
  {
    method: "post", path: "/v1/tokens", operationId: "mintToken", tag: "tokens", right: "admin",
    summary: "Mint a scoped token (HS256 JWT) for a subject with grants",
    body: { schema: MintTokenRequestSchema, required: true },
    answers: { 201: { description: "Minted", schema: MintTokenResponseSchema } },
    errors: [ErrorCode.NotConfigured],
  },
  {
    method: "get", path: "/v1/stations", operationId: "listStations", tag: "stations", right: "any",
    summary: "The stations the token reaches (any right)",
    answers: { 200: { description: "Stations by name", schema: StationListSchema } }, errors: [],
  },
  {
    method: "put", path: station, operationId: "putStation", tag: "stations", right: "manage",
    summary: "Create a station (201) or change its config (200); an empty body takes every default. `partitions` may grow, never shrink (409 `partitions_shrink`); a doc station has 1",
    body: { schema: StationConfigSchema, required: false },
    answers: { 200: { description: "Updated", schema: StationInfoSchema }, 201: { description: "Created", schema: StationInfoSchema } },
    errors: [ErrorCode.SchemaNotFound, ErrorCode.TooManyStations, ErrorCode.Conflict, ErrorCode.ArchiveUnavailable, ErrorCode.PartitionsShrink],
  },
  {
    method: "get", path: station, operationId: "getStation", tag: "stations", right: "manage",
    summary: "A station's config, stats, groups and recent throughput, summed over its partitions, and each partition in `partitions`",
    answers: { 200: { description: "The station", schema: StationInfoSchema } }, errors: [ErrorCode.StationNotFound],
  },
  {
    method: "delete", path: station, operationId: "deleteStation", tag: "stations", right: "manage",
    summary: "Delete a station with its log, groups, dead letters and webhook endpoints, on every partition",
    answers: { 200: { description: "Deleted", schema: DeletedSchema } }, errors: [ErrorCode.StationNotFound],
  },
  {
    method: "post", path: `${station}/messages`, operationId: "produce", tag: "messages", right: "produce",
    summary: "Produce a batch, each message to its partition (`partition`, else by key, else by producer); a sequenced producer gets one ruling per message (offset, dead-lettered or refused); a part whose partition refused it whole is `unruled` when another part was ruled",
    body: { schema: ProduceRequestSchema, required: true },
    answers: { 200: { description: "Every message ruled (or unruled), in batch order, each with its partition; `partitions`: the count now", schema: ProduceResponseSchema } },
    errors: [
      ErrorCode.StationNotFound, ErrorCode.SeqGap, ErrorCode.SeqConflict, ErrorCode.MessageTooLarge, ErrorCode.SchemaViolation,
      ErrorCode.InvalidDocUpdate, ErrorCode.QuotaExceeded, ErrorCode.PartitionOutOfRange,
    ],
  },
  {
    method: "get", path: `${station}/messages`, operationId: "readMessages", tag: "messages", right: "consume",
    summary: "Read one partition's log (`partition`, 0 by default) from an offset (replay); offsets archived to R2 (retention.archive) are read back from it", query: ReadQuerySchema,
    answers: { 200: { description: "Messages in offset order, and where to read next", schema: ReadResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.ArchiveUnavailable, ErrorCode.PartitionOutOfRange],
  },
  {
    method: "get", path: `${station}/schema`, operationId: "getStationSchema", tag: "schemas", right: "produce",
    summary: "The JSON Schema the station checks produce against now (null when none)",
    answers: { 200: { description: "The station's schema", schema: StationSchemaResponseSchema } }, errors: [ErrorCode.StationNotFound],
  },
  {
    method: "post", path: `${group}/fetch`, operationId: "fetchMessages", tag: "groups", right: "consume",
    summary: "Lease up to `max` messages to a consumer, long-polling up to `waitMs`; `ack` settles the previous batch first",
    body: { schema: FetchRequestSchema, required: false },
    answers: { 200: { description: "Leased messages in offset order", schema: FetchResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound, ErrorCode.TooManyGroups],
  },
  {
    method: "post", path: `${group}/ack`, operationId: "ackMessages", tag: "groups", right: "consume",
    summary: "Ack leased messages (idempotent)", body: { schema: AckRequestSchema, required: true },
    answers: { 200: { description: "How many this request acked", schema: AckResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "post", path: `${group}/nack`, operationId: "nackMessages", tag: "groups", right: "consume",
    summary: "Give leased messages back, handed out again after `delayMs`", body: { schema: NackRequestSchema, required: true },
    answers: { 200: { description: "How many went back", schema: NackResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "post", path: `${group}/extend`, operationId: "extendLeases", tag: "groups", right: "consume",
    summary: "Keep leased messages another `ackTimeoutMs` (only leases `consumer` holds, that have not run out and, with `epoch`, from that epoch)",
    body: { schema: ExtendRequestSchema, required: true },
    answers: { 200: { description: "How many leases were extended, and until when", schema: ExtendResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "post", path: `${group}/dead-letter`, operationId: "deadLetterMessages", tag: "groups", right: "consume",
    summary: "Give up on leased messages: to the dead-letter station now (reason `rejected`, the consumer's reason in `detail`); with `epoch`, leases from before a seek are ignored",
    body: { schema: DeadLetterRequestSchema, required: true },
    answers: { 200: { description: "How many leased messages left the group", schema: DeadLetterResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "post", path: `${group}/seek`, operationId: "seekGroup", tag: "groups", right: "consume",
    summary: "Move the group (consume or manage right): `earliest`, `latest`, `{offset}` or `{time}`; below the new position counts as acked, from it on as never handed out; leases in flight are dropped and the group's `epoch` grows",
    body: { schema: SeekRequestSchema, required: true },
    answers: { 200: { description: "The group's new state, and how many leases were dropped", schema: SeekResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "get", path: `${group}/subscribe`, operationId: "subscribeGroup", tag: "groups", right: "consume", webSocket: true,
    summary: "WebSocket: the server pushes leased messages within the credit granted; acks, nacks, extends and dead-letters on the socket (frames: shared/groups.ts)",
    query: SubscribeQuerySchema,
    answers: { 101: { description: "Switching to the WebSocket protocol" } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound, ErrorCode.TooManyGroups],
  },
  {
    method: "put", path: group, operationId: "putGroup", tag: "groups", right: "manage",
    summary: "Create a group (201) or change its overrides (200); `start` applies at creation",
    body: { schema: GroupConfigSchema, required: false },
    answers: { 200: { description: "Updated", schema: GroupInfoSchema }, 201: { description: "Created", schema: GroupInfoSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.GroupStartFixed, ErrorCode.TooManyGroups],
  },
  {
    method: "get", path: group, operationId: "getGroup", tag: "groups", right: "manage",
    summary: "A group's position, leases, counters and recent consumers",
    answers: { 200: { description: "The group", schema: GroupInfoSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "delete", path: group, operationId: "deleteGroup", tag: "groups", right: "manage",
    summary: "Forget a group, its position and its leases",
    answers: { 200: { description: "Deleted", schema: DeletedSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.GroupNotFound],
  },
  {
    method: "get", path: `${station}/dls`, operationId: "listDeadLetters", tag: "dead letters", right: "manage",
    summary: "Browse the dead-letter station, oldest first: one partition (`partition`) or every partition merged (paged by `cursor`)", query: DeadLetterQuerySchema,
    answers: { 200: { description: "A page of dead letters", schema: DeadLettersResponseSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.PartitionOutOfRange],
  },
  {
    method: "post", path: `${station}/dls/resend`, operationId: "resendDeadLetters", tag: "dead letters", right: "manage",
    summary: "Put dead letters back to their group, by id (on `partition`, 0 by default) or all (of a group or reason, on every partition)",
    body: { schema: ResendRequestSchema, required: true },
    answers: { 200: { description: "What was resent, missing or refused", schema: ResendResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.PartitionOutOfRange],
  },
  {
    method: "delete", path: `${station}/dls/{id}`, operationId: "dropDeadLetter", tag: "dead letters", right: "manage",
    summary: "Drop one dead letter (of `partition`, 0 by default)", query: DropQuerySchema,
    answers: { 200: { description: "Dropped", schema: DropResponseSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.DeadLetterNotFound, ErrorCode.PartitionOutOfRange],
  },
  {
    method: "get", path: `${station}/doc`, operationId: "getDoc", tag: "documents", right: "consume",
    summary: "A doc station's state (or what `stateVector` lacks) in one round trip", query: DocQuerySchema,
    answers: { 200: { description: "The document state", schema: DocStateSchema, alternative: { mediaType: "application/octet-stream", description: "With `Accept: application/octet-stream`: the raw yjs update; offsets and state vector in `waystation-doc-*` headers" } } },
    errors: [ErrorCode.StationNotFound, ErrorCode.NotADoc, ErrorCode.PayloadTooLarge],
  },
  {
    method: "post", path: `${station}/doc`, operationId: "postDoc", tag: "documents", right: "consume",
    summary: "The same read with the state vector in the body", body: { schema: DocRequestSchema, required: false },
    answers: { 200: { description: "The document state", schema: DocStateSchema, alternative: { mediaType: "application/octet-stream", description: "With `Accept: application/octet-stream`: the raw yjs update" } } },
    errors: [ErrorCode.StationNotFound, ErrorCode.NotADoc],
  },
  {
    method: "get", path: `${station}/doc/subscribe`, operationId: "subscribeDoc", tag: "documents", right: "consume", webSocket: true,
    summary: "WebSocket: live yjs updates and awareness of a doc station (frames: shared/doc-socket.ts)",
    answers: { 101: { description: "Switching to the WebSocket protocol" } },
    errors: [ErrorCode.StationNotFound, ErrorCode.NotADoc],
  },
  {
    method: "get", path: `${station}/webhooks`, operationId: "listWebhooks", tag: "webhooks", right: "manage",
    summary: "A station's webhook endpoints with their delivery health",
    answers: { 200: { description: "Endpoints by name", schema: WebhookListSchema } }, errors: [ErrorCode.StationNotFound],
  },
  {
    method: "put", path: webhook, operationId: "putWebhook", tag: "webhooks", right: "manage",
    summary: "Create (201) or update (200) a webhook endpoint; a generated `whsec_` secret is answered once",
    body: { schema: PutWebhookRequestSchema, required: true },
    answers: { 200: { description: "Updated", schema: PutWebhookResponseSchema }, 201: { description: "Created", schema: PutWebhookResponseSchema } },
    errors: [ErrorCode.StationNotFound, ErrorCode.InvalidWebhookUrl, ErrorCode.TooManyWebhooks, ErrorCode.SecretRotationLimit, ErrorCode.Conflict],
  },
  {
    method: "get", path: webhook, operationId: "getWebhook", tag: "webhooks", right: "manage",
    summary: "One endpoint with its cursor, health and recent attempts",
    answers: { 200: { description: "The endpoint", schema: WebhookInfoSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.WebhookNotFound],
  },
  {
    method: "delete", path: webhook, operationId: "deleteWebhook", tag: "webhooks", right: "manage",
    summary: "Delete an endpoint; its dead letters stay",
    answers: { 200: { description: "Deleted", schema: DeletedSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.WebhookNotFound],
  },
  {
    method: "post", path: `${webhook}/replay`, operationId: "replayWebhook", tag: "webhooks", right: "manage",
    summary: "Deliver again from an offset of `partition` (0 by default), or from the earliest kept on every partition", body: { schema: ReplayWebhookRequestSchema, required: true },
    answers: { 200: { description: "The endpoint, moved", schema: WebhookInfoSchema } }, errors: [ErrorCode.StationNotFound, ErrorCode.WebhookNotFound, ErrorCode.PartitionOutOfRange],
  },
  {
    method: "get", path: "/v1/schemas", operationId: "listSchemas", tag: "schemas", right: "manage everywhere",
    summary: "Every schema name with its latest version",
    answers: { 200: { description: "Schemas by name", schema: SchemaListResponseSchema } }, errors: [],
  },
  {
    method: "put", path: "/v1/schemas/{schema}", operationId: "putSchema", tag: "schemas", right: "manage everywhere",
    summary: "Add a schema version (201), or nothing when equal to the latest (200); the body may be the bare JSON Schema. A version that breaks the schema's compatibility rule is refused (409 incompatible_schema)",
    body: { schema: PutSchemaRequestSchema, required: true, description: "`{schema, description?, draft?, compatibility?}`, or the JSON Schema itself; `compatibility` sets the rule from this version on" },
    answers: { 200: { description: "Equal to the latest version", schema: PutSchemaResponseSchema }, 201: { description: "Added", schema: PutSchemaResponseSchema } },
    errors: [ErrorCode.InvalidSchema, ErrorCode.IncompatibleSchema, ErrorCode.Conflict, ErrorCode.TooManySchemas],
  },
  {
    method: "get", path: "/v1/schemas/{schema}", operationId: "getSchema", tag: "schemas", right: "manage everywhere",
    summary: "Every version of a schema, oldest first",
    answers: { 200: { description: "The versions", schema: SchemaVersionsResponseSchema } }, errors: [ErrorCode.SchemaNotFound],
  },
  {
    method: "get", path: "/v1/schemas/{schema}/versions/{version}", operationId: "getSchemaVersion", tag: "schemas", right: "manage everywhere",
    summary: "One version of a schema (a number or `latest`)",
    answers: { 200: { description: "The version", schema: SchemaVersionSchema } }, errors: [ErrorCode.SchemaNotFound],
  },
];
