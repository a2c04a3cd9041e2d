// Webhook endpoints on the wire: the `PUT /v1/stations/{station}/webhooks/{name}` body with its
// defaults and bounds, the endpoint with its delivery health as GET answers it, replay, and the
// delivery payload. Signing follows Standard Webhooks (https://www.standardwebhooks.com/).
import * as v from "valibot";
import { DecodeSchema, type Message } from "./messages";
import { intInRange, positiveInt } from "./numbers";
import { PartitionSchema } from "./partitions";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Delays before each retry, after the first attempt (made as soon as the message is there).
 *  In the spirit of Svix: within seconds, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  1 * SECOND, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR,
];
/** Most retries one message gets, and the longest delay between two attempts. */
export const MAX_RETRIES = 20;
export const MAX_RETRY_DELAY_MS = 1 * DAY;
/** A delay is stretched by up to this fraction at random, so failing endpoints are not hit in lockstep. */
export const RETRY_JITTER_FRACTION = 0.2;
/** A `Retry-After` on 429/503 is honoured up to this long; longer asks are cut to it. */
export const MAX_RETRY_AFTER_MS = 1 * HOUR;

/** An attempt succeeds on a 2xx answered within this time. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15 * SECOND;
export const MIN_WEBHOOK_TIMEOUT_MS = 100;
export const MAX_WEBHOOK_TIMEOUT_MS = 60 * SECOND;
/** An endpoint failing without a single success for this long is disabled. */
export const DEFAULT_DISABLE_AFTER_MS = 5 * DAY;
export const MAX_DISABLE_AFTER_MS = 30 * DAY;
/** After a secret is rotated, the previous one keeps signing (a second signature) this long. */
export const DEFAULT_ROTATION_GRACE_MS = 1 * DAY;
export const MAX_ROTATION_GRACE_MS = 7 * DAY;
/** Rotated-out secrets that may sign at once (a delivery carries at most this + 1 signatures);
 *  a rotation that would need one more is refused with `secret_rotation_limit`. */
export const MAX_PREVIOUS_SECRETS = 3;

/** Concurrent deliveries of one unordered endpoint; a station's object runs at most
 *  MAX_STATION_DELIVERIES fetches at once (Workers allow 6 open connections per invocation). */
export const DEFAULT_UNORDERED_MAX_IN_FLIGHT = 6;
export const MAX_IN_FLIGHT_LIMIT = 100;
export const MAX_STATION_DELIVERIES = 6;
/** Endpoints one station may have. */
export const MAX_WEBHOOKS_PER_STATION = 50;
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Attempts kept per endpoint in its recent delivery log. */
export const WEBHOOK_LOG_SIZE = 50;
/** Most header conditions in one filter. */
export const MAX_FILTER_HEADERS = 16;
export const MAX_FILTER_VALUES = 32;

/** Secrets are `whsec_` + standard base64 of 24–64 random bytes (the Standard Webhooks range). */
export const WEBHOOK_SECRET_PREFIX = "whsec_";
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** Bytes of a generated secret. */
export const GENERATED_SECRET_BYTES = 32;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The group name an endpoint's dead letters carry, and its entry among the station's groups.
 *  `:` is not allowed in group names, so it never collides with a consumer group. */
export function webhookGroupName(endpoint: string): string {
  return `webhook:${endpoint}`;
}

/** The endpoint a `webhook:<name>` group name stands for, or null for a consumer group. */
export function webhookOfGroup(group: string): string | null {
  return group.startsWith("webhook:") ? group.slice("webhook:".length) : null;
}

/** Bytes a `whsec_…` secret (or its bare base64) decodes to, or null if it is not standard base64. */
export function secretByteLength(secret: string): number | null {
  const text = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  if (text.length === 0 || !BASE64_PATTERN.test(text)) return null;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** A secret as given (with or without `whsec_`), always stored and used with the prefix. */
export const WebhookSecretSchema = v.pipe(
  v.string(),
  v.check((secret) => {
    const bytes = secretByteLength(secret);
    return bytes !== null && bytes >= MIN_SECRET_BYTES && bytes <= MAX_SECRET_BYTES;
  }, `secret must be whsec_ + standard base64 of ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes`),
  v.transform((secret) => (secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret : WEBHOOK_SECRET_PREFIX + secret)),
);

/** A message matches when each named header has the value given (or one of the values listed). */
export const WebhookFilterSchema = v.strictObject({
  headers: v.pipe(
    v.record(
      v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
      v.union([
        v.pipe(v.string(), v.maxLength(4096)),
        v.pipe(v.array(v.pipe(v.string(), v.maxLength(4096))), v.minLength(1), v.maxLength(MAX_FILTER_VALUES)),
      ]),
    ),
    v.check((headers) => Object.keys(headers).length <= MAX_FILTER_HEADERS, `A filter names at most ${MAX_FILTER_HEADERS} headers`),
  ),
});
export type WebhookFilter = v.InferOutput<typeof WebhookFilterSchema>;

export const WebhookRetrySchema = v.strictObject({
  /** Delay before each retry; the length is the number of retries (0 = one attempt only). */
  scheduleMs: v.pipe(v.array(intInRange(0, MAX_RETRY_DELAY_MS)), v.maxLength(MAX_RETRIES, `At most ${MAX_RETRIES} retries`)),
});

/** Where a new endpoint starts: after the messages already there, at the oldest kept, or at an offset. */
export const WebhookStartSchema = v.union([v.literal("latest"), v.literal("earliest"), positiveInt]);
export type WebhookStart = v.InferOutput<typeof WebhookStartSchema>;

/**
 * `PUT /v1/stations/{station}/webhooks/{name}`. A PUT replaces the options (omitted ones take
 * their defaults) except `secret` (kept when omitted), `start` (used at creation only) and
 * `enabled` (kept when omitted; `true` re-enables and clears the failure streak).
 */
export const PutWebhookRequestSchema = v.pipe(
  v.strictObject({
    url: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_WEBHOOK_URL_LENGTH)),
    secret: v.optional(WebhookSecretSchema),
    /** One delivery in flight, in offset order. The default, unless `maxInFlight` > 1. */
    ordered: v.optional(v.boolean()),
    /** Concurrent deliveries of an unordered endpoint. */
    maxInFlight: v.optional(intInRange(1, MAX_IN_FLIGHT_LIMIT)),
    filter: v.optional(v.nullable(WebhookFilterSchema), null),
    start: v.optional(WebhookStartSchema, "latest"),
    retry: v.optional(WebhookRetrySchema),
    timeoutMs: v.optional(intInRange(MIN_WEBHOOK_TIMEOUT_MS, MAX_WEBHOOK_TIMEOUT_MS), DEFAULT_WEBHOOK_TIMEOUT_MS),
    disableAfterMs: v.optional(intInRange(0, MAX_DISABLE_AFTER_MS), DEFAULT_DISABLE_AFTER_MS),
    rotationGraceMs: v.optional(intInRange(0, MAX_ROTATION_GRACE_MS), DEFAULT_ROTATION_GRACE_MS),
    enabled: v.optional(v.boolean()),
    /** `json`: schema binary bodies are delivered as JSON (as `?decode=json` on replay). */
    decode: v.optional(DecodeSchema),
  }),
  v.check((body) => !(body.ordered === true && body.maxInFlight !== undefined && body.maxInFlight > 1), "An ordered endpoint has one delivery in flight: drop maxInFlight or set ordered: false"),
  v.transform(({ ordered, maxInFlight, retry, ...rest }) => {
    const isOrdered = ordered ?? !(maxInFlight !== undefined && maxInFlight > 1);
    return {
      ...rest,
      ordered: isOrdered,
      maxInFlight: isOrdered ? 1 : (maxInFlight ?? DEFAULT_UNORDERED_MAX_IN_FLIGHT),
      retry: { scheduleMs: retry?.scheduleMs ?? [...DEFAULT_RETRY_SCHEDULE_MS] },
    };
  }),
);
export type PutWebhookRequest = v.InferOutput<typeof PutWebhookRequestSchema>;

/** The options an endpoint keeps (the PUT body without secret, start and enabled). */
export interface WebhookOptions {
  url: string;
  ordered: boolean;
  maxInFlight: number;
  filter: WebhookFilter | null;
  retry: { scheduleMs: number[] };
  timeoutMs: number;
  disableAfterMs: number;
  rotationGraceMs: number;
}

/**
 * `POST /v1/stations/{station}/webhooks/{name}/replay`: deliver again from an offset. On a
 * partitioned station `earliest` replays every partition; an offset counts in `partition` (0
 * by default) and replays that partition only.
 */
export const ReplayWebhookRequestSchema = v.strictObject({
  from: v.union([v.literal("earliest"), positiveInt]),
  partition: v.optional(PartitionSchema),
});
export type ReplayWebhookRequest = v.InferOutput<typeof ReplayWebhookRequestSchema>;

/** What one attempt came to. */
export const DeliveryOutcome = {
  Delivered: "delivered",
  /** Failed; another attempt is scheduled. */
  Retrying: "retrying",
  /** Failed its last attempt: sent to the dead-letter station. */
  DeadLettered: "dead_lettered",
  /** Failed and disabled the endpoint (410, or failing for `disableAfterMs`); kept for re-enabling. */
  Disabled: "disabled",
  /** The message was trimmed by retention before it could be delivered. */
  Skipped: "skipped",
} as const;
export type DeliveryOutcome = (typeof DeliveryOutcome)[keyof typeof DeliveryOutcome];

export interface DeliveryAttempt {
  offset: number;
  /** 1 for the first attempt of this message to this endpoint. */
  attempt: number;
  /** When the attempt started, ms since the Unix epoch. */
  at: number;
  /** HTTP status, or null when no response came (timeout, network error). */
  status: number | null;
  error: string | null;
  durationMs: number;
  outcome: DeliveryOutcome;
}

/**
 * The `error` of a failed attempt (health `lastError`, `recent`, a dead letter's detail): coarse
 * on purpose, so that an endpoint's health is no port scanner or connect oracle. The status,
 * when an answer came, is in `status`.
 */
export const DeliveryError = {
  /** No answer within `timeoutMs`. */
  Timeout: "timeout",
  /** No HTTP answer: refused, reset, TLS or any other network failure. */
  ConnectionFailed: "connection failed",
  /** A 3xx: redirects are not followed. */
  Redirect: "redirect not followed",
  Http4xx: "http 4xx",
  Http5xx: "http 5xx",
  /** The URL (or an address its host resolves to) is not allowed: nothing was sent. */
  BlockedAddress: "blocked address",
  /** The host name could not be resolved: nothing was sent, retried on schedule. */
  DnsFailed: "dns lookup failed",
  /** The worker has no WEBHOOK_SECRET_KEY (or not the one that sealed this secret): nothing was sent unsigned. */
  SecretUnavailable: "secret unavailable",
  /** Retention trimmed the message before it could be delivered. */
  Trimmed: "trimmed by retention before delivery",
} as const;
export type DeliveryError = (typeof DeliveryError)[keyof typeof DeliveryError];

/** Why an endpoint stopped delivering. */
export const DisabledReason = {
  /** `PUT` with `enabled: false`. */
  Manual: "manual",
  /** The endpoint answered 410 Gone. */
  Gone: "gone",
  /** No success for `disableAfterMs`. */
  Failing: "failing",
  /** The URL is no longer allowed (e.g. an http:// endpoint on a deployed worker, or a name
   *  that now resolves to a private address). */
  UrlNotAllowed: "url_not_allowed",
} as const;
export type DisabledReason = (typeof DisabledReason)[keyof typeof DisabledReason];

/** An endpoint as GET answers it. The secret is never shown again after the PUT that made it. */
export interface WebhookInfo extends WebhookOptions {
  name: string;
  /** The name its dead letters and its station `groups` entry carry. */
  group: string;
  enabled: boolean;
  disabledAt: number | null;
  disabledReason: DisabledReason | null;
  /** Until when a rotated-out secret still signs (a second signature), or null; with several, the last. */
  previousSecretExpiresAt: number | null;
  /** When each rotated-out secret still in grace stops signing, newest rotation first (at most MAX_PREVIOUS_SECRETS). */
  previousSecretsExpireAt: number[];
  createdAt: number;
  updatedAt: number;
  cursor: {
    /** The next offset to be taken from the log. */
    nextOffset: number;
    /** Every offset at or below it is done (delivered, dead-lettered or filtered out). */
    ackFloor: number;
    /** Messages taken and not yet done: being sent or waiting for a retry. */
    pending: number;
    inFlight: number;
    /** Messages of the log not yet taken. */
    lag: number;
    /** When the next waiting attempt is due, or null. */
    nextAttemptAt: number | null;
  };
  health: {
    lastStatus: number | null;
    lastError: string | null;
    lastAttemptAt: number | null;
    lastSuccessAt: number | null;
    consecutiveFailures: number;
    /** Start of the current failure streak, or null. */
    failingSince: number | null;
    delivered: number;
    deadLettered: number;
  };
  /** The last attempts, newest first (at most WEBHOOK_LOG_SIZE). */
  recent: DeliveryAttempt[];
  /** On a partitioned station, each partition's delivery (each delivers its own messages, in
   *  its own order); the fields above are partition 0's. Absent on an unpartitioned station. */
  partitions?: WebhookPartitionInfo[];
}

/** One partition's delivery to an endpoint: its cursor (offsets within the partition) and health. */
export interface WebhookPartitionInfo {
  partition: number;
  cursor: WebhookInfo["cursor"];
  health: WebhookInfo["health"];
}

/** The PUT answer: the endpoint, plus its secret when this PUT generated it (shown once). */
export interface PutWebhookResponse extends WebhookInfo {
  secret?: string;
}

export interface WebhookListResponse {
  webhooks: WebhookInfo[];
}

/** The JSON body of each delivery: the message as read back, plus its station. */
export type WebhookPayload = Message & { station: string };

/** Standard Webhooks headers of each delivery. */
export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";
