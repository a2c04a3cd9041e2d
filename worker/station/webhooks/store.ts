// Webhook endpoints as stored: the SQL row and its one conversion, create/update (with secrets
// already sealed by webhooks/secrets.ts), delete, replay, and the endpoint with its health as the
// wire shows it. Runs inside the caller's transaction; knows nothing of HTTP, sending or keys.
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import {
  type DeliveryOutcome,
  DisabledReason,
  MAX_WEBHOOKS_PER_STATION,
  type DeliveryAttempt,
  type PutWebhookRequest,
  type PutWebhookResponse,
  type ReplayWebhookRequest,
  type WebhookInfo,
  type WebhookOptions,
  type WebhookStart,
  WEBHOOK_LOG_SIZE,
  webhookGroupName,
} from "../../../shared/webhooks";
import type { StationRecord } from "../log/record";
import { previousExpiries, type SecretColumns } from "./secrets";

export interface EndpointRow {
  id: number;
  name: string;
  options: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  enabled: number;
  disabled_at: number | null;
  disabled_reason: string | null;
  next_offset: number;
  created_at: number;
  updated_at: number;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  last_success_at: number | null;
  consecutive_failures: number;
  failing_since: number | null;
  delivered: number;
  dead_lettered: number;
  [column: string]: SqlStorageValue;
}

/** An endpoint as the delivery code uses it. */
export interface Endpoint {
  id: number;
  name: string;
  options: WebhookOptions;
  enabled: boolean;
  nextOffset: number;
  failingSince: number | null;
  row: EndpointRow;
}

/** Parsed options by their JSON text: every claim reads every endpoint, options rarely change. */
const optionsCache = new Map<string, WebhookOptions>();
const MAX_CACHED_OPTIONS = 256;

function parseOptions(text: string): WebhookOptions {
  let options = optionsCache.get(text);
  if (!options) {
    options = Object.freeze(JSON.parse(text) as WebhookOptions);
    if (optionsCache.size >= MAX_CACHED_OPTIONS) optionsCache.clear();
    optionsCache.set(text, options);
  }
  return options;
}

export function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    name: row.name,
    options: parseOptions(row.options),
    enabled: row.enabled === 1,
    nextOffset: row.next_offset,
    failingSince: row.failing_since,
    row,
  };
}

export function loadEndpoint(sql: SqlStorage, name: string): Endpoint | null {
  const row = sql.exec<EndpointRow>("SELECT * FROM webhooks WHERE name = ?", name).toArray()[0];
  return row ? toEndpoint(row) : null;
}

export function loadEndpointById(sql: SqlStorage, id: number): Endpoint | null {
  const row = sql.exec<EndpointRow>("SELECT * FROM webhooks WHERE id = ?", id).toArray()[0];
  return row ? toEndpoint(row) : null;
}

export function listEndpoints(sql: SqlStorage, enabledOnly = false): Endpoint[] {
  const where = enabledOnly ? "WHERE enabled = 1" : "";
  return sql.exec<EndpointRow>(`SELECT * FROM webhooks ${where} ORDER BY name`).toArray().map(toEndpoint);
}

export function countEnabledEndpoints(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM webhooks WHERE enabled = 1").one().n;
}

/** The secret columns of a row, as webhooks/secrets.ts reads and writes them. */
export function secretColumns(row: EndpointRow): SecretColumns {
  return { secret: row.secret, previous_secret: row.previous_secret, previous_secret_expires_at: row.previous_secret_expires_at };
}

/** Whether the row still holds the secret columns `basis` was read from (null: no row). */
function sameSecrets(row: EndpointRow | null, basis: SecretColumns | null): boolean {
  if (row === null || basis === null) return row === basis;
  return row.secret === basis.secret && row.previous_secret === basis.previous_secret && row.previous_secret_expires_at === basis.previous_secret_expires_at;
}

/**
 * Writes freshly sealed secrets over the ones they were made from, unless the row changed since
 * (a PUT in between wins): the lazy re-sealing after a delivery. True when written.
 */
export function resealSecrets(sql: SqlStorage, id: number, basis: SecretColumns, sealed: SecretColumns): boolean {
  const row = loadEndpointById(sql, id);
  if (row === null || !sameSecrets(row.row, basis)) return false;
  writeSecrets(sql, id, sealed);
  return true;
}

function writeSecrets(sql: SqlStorage, id: number, sealed: SecretColumns): void {
  sql.exec(
    "UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_expires_at = ? WHERE id = ?",
    sealed.secret,
    sealed.previous_secret,
    sealed.previous_secret_expires_at,
    id,
  );
}

function optionsOf(request: PutWebhookRequest, url: string): WebhookOptions {
  return {
    url,
    ordered: request.ordered,
    maxInFlight: request.maxInFlight,
    filter: request.filter,
    retry: request.retry,
    timeoutMs: request.timeoutMs,
    disableAfterMs: request.disableAfterMs,
    rotationGraceMs: request.rotationGraceMs,
  };
}

/** Where a new endpoint's cursor starts. */
function startOffset(record: StationRecord, start: WebhookStart): number {
  if (start === "latest") return record.nextOffset;
  if (start === "earliest") return record.firstOffset;
  return Math.max(start, record.firstOffset);
}

export interface PutOutcome {
  created: boolean;
  endpoint: Endpoint;
}

/** The secrets a PUT writes: sealed from what the row held (`basis`, null for a new endpoint). */
export interface SecretsToWrite {
  basis: SecretColumns | null;
  sealed: SecretColumns;
}

/**
 * Creates the endpoint or replaces its options; `url` is the guard-checked, normalised URL and
 * `secrets` were sealed (outside this transaction: WebCrypto is async) from the row as it was.
 * If the row's secrets changed meanwhile, nothing is written and the answer is `conflict`.
 */
export function putEndpoint(
  sql: SqlStorage,
  record: StationRecord,
  name: string,
  request: PutWebhookRequest,
  url: string,
  secrets: SecretsToWrite,
  now: number,
): Result<PutOutcome> {
  const options = JSON.stringify(optionsOf(request, url));
  const existing = loadEndpoint(sql, name);
  if (!sameSecrets(existing?.row ?? null, secrets.basis)) {
    return fail(ErrorCode.Conflict, `Webhook endpoint ${name} changed during this PUT; send it again`, { webhook: name });
  }
  if (existing === null) {
    const total = sql.exec<{ n: number }>("SELECT count(*) AS n FROM webhooks").one().n;
    if (total >= MAX_WEBHOOKS_PER_STATION) {
      return fail(ErrorCode.TooManyWebhooks, `A station has at most ${MAX_WEBHOOKS_PER_STATION} webhook endpoints`, { max: MAX_WEBHOOKS_PER_STATION });
    }
    const enabled = request.enabled ?? true;
    sql.exec(
      `INSERT INTO webhooks (name, options, secret, previous_secret, previous_secret_expires_at, enabled, disabled_at, disabled_reason,
         next_offset, created_at, updated_at, consecutive_failures, delivered, dead_lettered)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0)`,
      name,
      options,
      secrets.sealed.secret,
      secrets.sealed.previous_secret,
      secrets.sealed.previous_secret_expires_at,
      enabled ? 1 : 0,
      enabled ? null : now,
      enabled ? null : DisabledReason.Manual,
      startOffset(record, request.start),
      now,
      now,
    );
    return ok({ created: true, endpoint: loadEndpoint(sql, name)! });
  }

  const row = existing.row;
  sql.exec("UPDATE webhooks SET options = ?, updated_at = ? WHERE id = ?", options, now, row.id);
  // Rotated or not, the secrets are written sealed anew: a row from before sealing is migrated here.
  writeSecrets(sql, row.id, secrets.sealed);
  if (existing.options.url !== url) {
    // A new destination starts with a clean failure streak.
    sql.exec("UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE id = ?", row.id);
  }
  if (request.enabled === true && !existing.enabled) enableEndpoint(sql, row.id);
  if (request.enabled === false && existing.enabled) disableEndpoint(sql, row.id, DisabledReason.Manual, now);
  return ok({ created: false, endpoint: loadEndpointById(sql, row.id)! });
}

export function enableEndpoint(sql: SqlStorage, id: number): void {
  sql.exec(
    `UPDATE webhooks SET enabled = 1, disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0,
       failing_since = NULL WHERE id = ?`,
    id,
  );
}

export function disableEndpoint(sql: SqlStorage, id: number, reason: DisabledReason, now: number): void {
  sql.exec("UPDATE webhooks SET enabled = 0, disabled_at = ?, disabled_reason = ? WHERE id = ?", now, reason, id);
}

export function deleteEndpoint(sql: SqlStorage, name: string): Result<{ deleted: true }> {
  const endpoint = loadEndpoint(sql, name);
  if (!endpoint) return notFound(name);
  sql.exec("DELETE FROM webhook_queue WHERE webhook_id = ?", endpoint.id);
  sql.exec("DELETE FROM webhook_attempts WHERE webhook_id = ?", endpoint.id);
  sql.exec("DELETE FROM webhooks WHERE id = ?", endpoint.id);
  return ok({ deleted: true });
}

/**
 * Moves the cursor back (or forward) to `from`: every message from there on is delivered again
 * (with the same webhook-id, so receivers may deduplicate). Messages taken at or after `from`
 * are dropped from the queue and taken again in order; copies resent from the DLS stay.
 */
export function replayEndpoint(sql: SqlStorage, record: StationRecord, name: string, request: ReplayWebhookRequest): Result<Endpoint> {
  const endpoint = loadEndpoint(sql, name);
  if (!endpoint) return notFound(name);
  const from = request.from === "earliest" ? record.firstOffset : Math.max(request.from, record.firstOffset);
  sql.exec("DELETE FROM webhook_queue WHERE webhook_id = ? AND msg_offset >= ? AND message IS NULL", endpoint.id, from);
  sql.exec("UPDATE webhooks SET next_offset = ? WHERE id = ?", from, endpoint.id);
  return ok(loadEndpointById(sql, endpoint.id)!);
}

export function notFound(name: string): Result<never> {
  return fail(ErrorCode.WebhookNotFound, `No webhook endpoint ${name} on this station`, { webhook: name });
}

interface AttemptRow {
  msg_offset: number;
  attempt: number;
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
  outcome: string;
  [column: string]: SqlStorageValue;
}

/** Appends to the endpoint's recent-attempts log, keeping the last WEBHOOK_LOG_SIZE. */
export function logAttempt(sql: SqlStorage, endpointId: number, attempt: DeliveryAttempt): void {
  sql.exec(
    `INSERT INTO webhook_attempts (webhook_id, msg_offset, attempt, at, status, error, duration_ms, outcome)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    endpointId,
    attempt.offset,
    attempt.attempt,
    attempt.at,
    attempt.status,
    attempt.error,
    attempt.durationMs,
    attempt.outcome,
  );
  sql.exec(
    `DELETE FROM webhook_attempts WHERE webhook_id = ? AND id <= (
       SELECT id FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    endpointId,
    endpointId,
    WEBHOOK_LOG_SIZE,
  );
}

function recentAttempts(sql: SqlStorage, endpointId: number): DeliveryAttempt[] {
  return sql
    .exec<AttemptRow>(
      "SELECT msg_offset, attempt, at, status, error, duration_ms, outcome FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
      endpointId,
      WEBHOOK_LOG_SIZE,
    )
    .toArray()
    .map((row) => ({
      offset: row.msg_offset,
      attempt: row.attempt,
      at: row.at,
      status: row.status,
      error: row.error,
      durationMs: row.duration_ms,
      outcome: row.outcome as DeliveryOutcome,
    }));
}

/**
 * The lowest offset any endpoint (enabled or not) still has to deliver, or null without
 * endpoints: `retention.untilAcked` keeps the log from there on, as it does for groups.
 */
export function firstUndeliveredOffset(sql: SqlStorage): number | null {
  return sql
    .exec<{ floor: number | null }>(
      `SELECT min(coalesce(
         (SELECT min(q.msg_offset) FROM webhook_queue q WHERE q.webhook_id = w.id AND q.message IS NULL), w.next_offset)) AS floor
       FROM webhooks w`,
    )
    .one().floor;
}

export interface QueueStats {
  pending: number;
  /** Lowest offset taken from the log and not done, or null. */
  lowestFromLog: number | null;
  nextAttemptAt: number | null;
}

export function queueStats(sql: SqlStorage, endpointId: number): QueueStats {
  const row = sql
    .exec<{ n: number; lowest: number | null; next: number | null }>(
      `SELECT count(*) AS n, min(CASE WHEN message IS NULL THEN msg_offset END) AS lowest, min(next_attempt_at) AS next
       FROM webhook_queue WHERE webhook_id = ?`,
      endpointId,
    )
    .one();
  return { pending: row.n, lowestFromLog: row.lowest, nextAttemptAt: row.next };
}

/** The endpoint as GET shows it; `inFlight` comes from the dispatcher (memory, not storage). */
export function describeEndpoint(sql: SqlStorage, record: StationRecord, endpoint: Endpoint, inFlight: number, now: number): WebhookInfo {
  const { row } = endpoint;
  const queue = queueStats(sql, endpoint.id);
  const doneBelow = queue.lowestFromLog ?? endpoint.nextOffset;
  const expiries = previousExpiries(secretColumns(row), now);
  return {
    name: endpoint.name,
    group: webhookGroupName(endpoint.name),
    ...endpoint.options,
    enabled: endpoint.enabled,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason as DisabledReason | null,
    previousSecretExpiresAt: expiries.length > 0 ? Math.max(...expiries) : null,
    previousSecretsExpireAt: expiries,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    cursor: {
      nextOffset: endpoint.nextOffset,
      ackFloor: Math.max(0, Math.min(doneBelow, endpoint.nextOffset) - 1),
      pending: queue.pending,
      inFlight,
      lag: Math.max(0, record.nextOffset - Math.max(endpoint.nextOffset, record.firstOffset)),
      nextAttemptAt: queue.nextAttemptAt,
    },
    health: {
      lastStatus: row.last_status,
      lastError: row.last_error,
      lastAttemptAt: row.last_attempt_at,
      lastSuccessAt: row.last_success_at,
      consecutiveFailures: row.consecutive_failures,
      failingSince: row.failing_since,
      delivered: row.delivered,
      deadLettered: row.dead_lettered,
    },
    recent: recentAttempts(sql, endpoint.id),
  };
}

export function withSecret(info: WebhookInfo, secret: string | null): PutWebhookResponse {
  return secret === null ? info : { ...info, secret };
}
