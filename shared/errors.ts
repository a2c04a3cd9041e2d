// Error codes: the stable strings both sides branch on, never on message text.
// Each code has one HTTP status; the worker maps codes to statuses here and nowhere else.

export const ErrorCode = {
  /** The request body is not JSON. */
  InvalidJson: "invalid_json",
  /** The body, query or a path segment does not fit the contract; `issues` says where. */
  InvalidRequest: "invalid_request",
  /** A station, group, consumer or producer name breaks its rule. */
  InvalidName: "invalid_name",
  /** No or unknown bearer token. */
  Unauthorized: "unauthorized",
  /** The token is valid but does not reach this station or action. */
  Forbidden: "forbidden",
  /** No such station: stations exist only once created with `PUT` (no auto-create). */
  StationNotFound: "station_not_found",
  /** No such route or resource. */
  NotFound: "not_found",
  /** A producer's batch skips ahead of its last stored seq; `expectedSeq` says where to resume. */
  SeqGap: "seq_gap",
  /**
   * A resent `(producer, seq)` carries another action `id` than the one the station ruled on:
   * a second writer (a restored backup, a copied profile) used the same producer. `seq` names
   * the first such seq; the ones before it in the batch were this writer's. Move to a new producer.
   */
  SeqConflict: "seq_conflict",
  /** The request conflicts with the state (e.g. a schema that has as many versions as it may). */
  Conflict: "conflict",
  /** One message's encoded body is larger than the station's `maxMessageBytes`. */
  MessageTooLarge: "message_too_large",
  /** The batch holds too many messages, or the request body is too large. */
  PayloadTooLarge: "payload_too_large",
  /** A body that is not `application/json`. */
  UnsupportedMediaType: "unsupported_media_type",
  /** A message body fails the station's schema; `violations` names each failing message. */
  SchemaViolation: "schema_violation",
  /** A schema given to `PUT /v1/schemas/{name}` is not a valid JSON Schema of a supported draft. */
  InvalidSchema: "invalid_schema",
  /** A new schema version breaks its schema's `compatibility` rule; `breaks` lists `{path, rule, message}`. */
  IncompatibleSchema: "incompatible_schema",
  /** No such schema, or no such version of it. */
  SchemaNotFound: "schema_not_found",
  /** Over a token's or a station's rate; `Retry-After` says when to come back. */
  RateLimited: "rate_limited",
  /** The station's storage quota is used up; nothing already stored is lost. */
  QuotaExceeded: "quota_exceeded",
  /** The worker lacks a secret it needs (fail closed). */
  NotConfigured: "not_configured",
  /** `retention.archive: true` on a worker without an R2 bucket bound as `ARCHIVE`. */
  ArchiveUnavailable: "archive_unavailable",
  /** A known path with a method it does not take; `Allow` lists those it does. */
  MethodNotAllowed: "method_not_allowed",
  /** A message to a `kind: "doc"` station is not a yjs update as `{"$binary": "<base64>"}`; `index` names it. */
  InvalidDocUpdate: "invalid_doc_update",
  /** A document route on a station that is not `kind: "doc"`. */
  NotADoc: "not_a_doc",
  /** No such consumer group: groups are created only with `PUT …/groups/{group}` (manage right). */
  GroupNotFound: "group_not_found",
  /** The station has as many consumer groups as it may have (MAX_GROUPS_PER_STATION). */
  TooManyGroups: "too_many_groups",
  /** The deployment has as many schema names as it may have (MAX_SCHEMAS). */
  TooManySchemas: "too_many_schemas",
  /** The token's station prefix holds as many stations as it may (MAX_STATIONS_PER_PREFIX); `prefix` names it. */
  TooManyStations: "too_many_stations",
  /** No such dead letter (dropped or resent already). */
  DeadLetterNotFound: "dead_letter_not_found",
  /** A group's `start` differs from the one it was created with; it applies at creation only. */
  GroupStartFixed: "group_start_fixed",
  /** A dead letter that cannot be put back: it has no offset (schema) or no group to go to. */
  NotResendable: "not_resendable",
  /** A webhook URL that is malformed or not allowed here (SSRF guard); `reason` says which rule. */
  InvalidWebhookUrl: "invalid_webhook_url",
  /** No such webhook endpoint on this station. */
  WebhookNotFound: "webhook_not_found",
  /** The station has as many webhook endpoints as it may have. */
  TooManyWebhooks: "too_many_webhooks",
  /** A new webhook secret while as many rotated-out ones as allowed still sign; `retryAt` says when one expires. */
  SecretRotationLimit: "secret_rotation_limit",
  /** The request's headers are too many or too large (see shared/limits). */
  HeadersTooLarge: "headers_too_large",
  /** The request URL is longer than the worker reads. */
  UriTooLong: "uri_too_long",
  /** A Durable Object was briefly unreachable (reset, moved); retry after `Retry-After`. */
  Unavailable: "unavailable",
  /** A bug. Never expected; reported without internals. */
  Internal: "internal",
  /** A station config asking for fewer partitions than the station has: partitions never shrink. */
  PartitionsShrink: "partitions_shrink",
  /** A request names a partition the station does not have; `partitions` says how many it has. */
  PartitionOutOfRange: "partition_out_of_range",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 422,
  invalid_name: 400,
  unauthorized: 401,
  forbidden: 403,
  station_not_found: 404,
  not_found: 404,
  seq_gap: 409,
  seq_conflict: 409,
  conflict: 409,
  message_too_large: 413,
  payload_too_large: 413,
  unsupported_media_type: 415,
  schema_violation: 422,
  invalid_schema: 422,
  incompatible_schema: 409,
  schema_not_found: 404,
  rate_limited: 429,
  quota_exceeded: 507,
  not_configured: 503,
  archive_unavailable: 409,
  method_not_allowed: 405,
  invalid_doc_update: 422,
  not_a_doc: 409,
  group_not_found: 404,
  too_many_groups: 409,
  too_many_schemas: 409,
  too_many_stations: 409,
  dead_letter_not_found: 404,
  group_start_fixed: 409,
  not_resendable: 409,
  invalid_webhook_url: 422,
  webhook_not_found: 404,
  too_many_webhooks: 409,
  secret_rotation_limit: 409,
  headers_too_large: 431,
  uri_too_long: 414,
  unavailable: 503,
  internal: 500,
  partitions_shrink: 409,
  partition_out_of_range: 422,
};

/** The body of every refused request: `{"error": {"code", "message", …details}}`. */
export interface WireError {
  code: ErrorCode;
  message: string;
  [detail: string]: unknown;
}

export interface ErrorBody {
  error: WireError;
}

/** An expected outcome that can fail: a value, never an exception (also across Durable Object RPC). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string, details: Record<string, unknown> = {}): Result<T> {
  return { ok: false, error: wireError(code, message, details) };
}

/** Builds a WireError with `code` and `message` first; details cannot override them. */
export function wireError(code: ErrorCode, message: string, details: Record<string, unknown> = {}): WireError {
  return Object.assign({ code, message }, details, { code, message });
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string";
}
