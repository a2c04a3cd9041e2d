// The delivery queue of each endpoint: takes messages from the log at the cursor (filtered),
// claims due ones for sending (ordered: only the lowest offset, one at a time), records each
// attempt's outcome (delivered, retry at a time, dead letter, disable) and says when the next
// attempt is due. Every function is synchronous SQL inside the caller's transaction; no fetch here.
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import { DeadLetterReason } from "../../../shared/dead-letters";
import { DeliveryError, DeliveryOutcome, DisabledReason, type DeliveryAttempt, type WebhookFilter, webhookGroupName } from "../../../shared/webhooks";
import { addDeadLetter, contentOfRow, type StoredMessage } from "../dead-letters";
import { messageJson } from "../groups/message-json";
import { MESSAGE_COLUMNS, type MessageRow } from "../log/rows";
import type { StationRecord } from "../log/record";
import { countThroughput } from "../log/throughput";
import { honoursRetryAfter, nextRetryDelayMs } from "./retry";
import type { SecretColumns } from "./secrets";
import { disableEndpoint, type Endpoint, listEndpoints, loadEndpointById, logAttempt, resealSecrets, secretColumns } from "./store";

/** Messages looked at per endpoint per refill when a filter skips them (bounds one claim's work). */
const MAX_SCAN_PER_REFILL = 500;
/** A claimed attempt is retried this long after its timeout if its outcome was never recorded
 *  (the object restarted mid-fetch): the lease that makes delivery at-least-once. */
export const LEASE_GRACE_MS = 5_000;
/** Without the key that opens its secret, an attempt waits this long (uncounted) and looks again. */
export const SECRET_UNAVAILABLE_RETRY_MS = 60_000;

interface QueueRow {
  webhook_id: number;
  msg_offset: number;
  attempts: number;
  next_attempt_at: number;
  message: string | null;
  [column: string]: SqlStorageValue;
}

/** Which deliveries this object is sending right now (memory, not storage). */
export interface InFlightView {
  count(endpointId: number): number;
  has(endpointId: number, offset: number): boolean;
}

/** One attempt to send, with everything the sender needs: no storage access while it runs. */
export interface Claim {
  endpointId: number;
  endpoint: string;
  offset: number;
  /** 1 for the first attempt. */
  attempt: number;
  url: string;
  /** The endpoint's secret columns as stored (sealed): the sender opens them, no storage needed. */
  secrets: SecretColumns;
  timeoutMs: number;
  /** Until when storage holds this attempt as taken; after it, the attempt is tried again. */
  leaseUntil: number;
  /** `webhook-id`: the same on every attempt of this message to this endpoint. */
  webhookId: string;
  /** The JSON body: the message as read back (`deliveries` = this attempt), plus `station`. */
  payload: string;
  content: StoredMessage;
}

/** What one attempt came to, as the sender saw it. */
export interface AttemptResult {
  at: number;
  status: number | null;
  error: string | null;
  retryAfterMs: number | null;
  durationMs: number;
  /** The URL failed the guard at send time: nothing was sent. */
  urlRefused?: boolean;
  /** No key could open the secret (WEBHOOK_SECRET_KEY missing or changed): nothing was sent unsigned. */
  secretUnavailable?: boolean;
  /** The secrets sealed anew under the current key (they were plain text, or under the previous key). */
  resealed?: { basis: SecretColumns; sealed: SecretColumns };
}

/** The webhook-id of a message: station incarnation and offset make it unique and stable. */
export function webhookMessageId(record: StationRecord, offset: number): string {
  return `msg_${record.name}_${record.createdAt.toString(36)}_${offset}`;
}

function matchesFilter(filter: WebhookFilter | null, headersJson: string | null): boolean {
  if (filter === null) return true;
  const headers = headersJson ? (JSON.parse(headersJson) as Record<string, string>) : {};
  return Object.entries(filter.headers).every(([name, wanted]) => {
    const value = headers[name];
    if (value === undefined) return false;
    return typeof wanted === "string" ? value === wanted : wanted.includes(value);
  });
}

/**
 * A queued row whose message is delayed (`delayMs`) and not visible yet (bind `now`). Such a
 * row waits with `next_attempt_at` = its visible time, takes no room and, on an ordered
 * endpoint, holds nothing back: the endpoint passes over it and sends it once its time comes
 * (the same rule as a group's hand-outs).
 */
const NOT_YET_VISIBLE = "EXISTS (SELECT 1 FROM messages m WHERE m.msg_offset = webhook_queue.msg_offset AND m.visible_at > ?)";

/** Queued rows of an endpoint that take room: all but delayed ones not visible yet. */
function countQueuedVisible(sql: SqlStorage, endpointId: number, now: number): number {
  return sql.exec<{ n: number }>(`SELECT count(*) AS n FROM webhook_queue WHERE webhook_id = ? AND NOT ${NOT_YET_VISIBLE}`, endpointId, now).one().n;
}

/** The lowest queued row an ordered endpoint may send next (delayed rows not visible yet passed over). */
function orderedHead(sql: SqlStorage, endpointId: number, now: number): QueueRow | undefined {
  return sql
    .exec<QueueRow>(`SELECT * FROM webhook_queue WHERE webhook_id = ? AND NOT ${NOT_YET_VISIBLE} ORDER BY msg_offset LIMIT 1`, endpointId, now)
    .toArray()[0];
}

/** Takes messages at the cursor into the endpoint's queue until it holds `maxInFlight` (delayed ones not counted). */
export function refillQueue(sql: SqlStorage, record: StationRecord, endpoint: Endpoint, now: number): void {
  let cursor = Math.max(endpoint.nextOffset, record.firstOffset);
  const queued = countQueuedVisible(sql, endpoint.id, now);
  let room = endpoint.options.maxInFlight - queued;
  if (room > 0 && cursor < record.nextOffset) {
    const filter = endpoint.options.filter;
    const rows = sql
      .exec<{ msg_offset: number; headers: string | null; visible_at: number | null }>(
        "SELECT msg_offset, headers, visible_at FROM messages WHERE msg_offset >= ? ORDER BY msg_offset LIMIT ?",
        cursor,
        filter === null ? room : MAX_SCAN_PER_REFILL,
      )
      .toArray();
    for (const row of rows) {
      if (room === 0) break;
      cursor = row.msg_offset + 1;
      if (!matchesFilter(filter, row.headers)) continue;
      const delayed = row.visible_at !== null && row.visible_at > now;
      // OR IGNORE: a copy resent from the DLS may already wait at this offset.
      sql.exec(
        "INSERT OR IGNORE INTO webhook_queue (webhook_id, msg_offset, attempts, next_attempt_at, message) VALUES (?, ?, 0, ?, NULL)",
        endpoint.id,
        row.msg_offset,
        delayed ? row.visible_at : now,
      );
      if (!delayed) room -= 1;
    }
    if (rows.length === 0) cursor = record.nextOffset;
  }
  if (cursor !== endpoint.nextOffset) {
    sql.exec("UPDATE webhooks SET next_offset = ? WHERE id = ?", cursor, endpoint.id);
    endpoint.nextOffset = cursor;
  }
}

/** Rows of an endpoint that may be sent now, lowest offset first. */
function claimableRows(sql: SqlStorage, endpoint: Endpoint, inFlight: InFlightView, now: number): QueueRow[] {
  const busy = inFlight.count(endpoint.id);
  if (endpoint.options.ordered) {
    if (busy > 0) return [];
    const head = orderedHead(sql, endpoint.id, now);
    return head && head.next_attempt_at <= now ? [head] : [];
  }
  const room = endpoint.options.maxInFlight - busy;
  if (room <= 0) return [];
  return sql
    .exec<QueueRow>(
      "SELECT * FROM webhook_queue WHERE webhook_id = ? AND next_attempt_at <= ? ORDER BY msg_offset LIMIT ?",
      endpoint.id,
      now,
      room + busy,
    )
    .toArray()
    .filter((row) => !inFlight.has(endpoint.id, row.msg_offset))
    .slice(0, room);
}

/**
 * Claims up to `slots` due attempts across enabled endpoints, earliest due first. Each claimed
 * row counts its attempt now and is leased until its timeout plus LEASE_GRACE_MS, so an attempt
 * lost with the object is tried again. Messages trimmed from the log before delivery are skipped.
 */
export function claimDeliveries(sql: SqlStorage, record: StationRecord, inFlight: InFlightView, slots: number, now: number): Claim[] {
  if (slots <= 0) return [];
  const endpoints = listEndpoints(sql, true);
  const candidates: { endpoint: Endpoint; row: QueueRow }[] = [];
  for (const endpoint of endpoints) {
    refillQueue(sql, record, endpoint, now);
    for (const row of claimableRows(sql, endpoint, inFlight, now)) candidates.push({ endpoint, row });
  }
  candidates.sort((a, b) => a.row.next_attempt_at - b.row.next_attempt_at || a.row.msg_offset - b.row.msg_offset);
  const claims: Claim[] = [];
  for (const { endpoint, row } of candidates) {
    if (claims.length >= slots) break;
    const logged = row.message === null ? loggedRow(sql, row.msg_offset) : null;
    const content = row.message !== null ? (JSON.parse(row.message) as StoredMessage) : logged ? contentOfRow(logged) : null;
    if (content === null) {
      skipTrimmed(sql, endpoint, row, now);
      continue;
    }
    const attempt = row.attempts + 1;
    const leaseUntil = now + endpoint.options.timeoutMs + LEASE_GRACE_MS;
    sql.exec(
      "UPDATE webhook_queue SET attempts = ?, next_attempt_at = ? WHERE webhook_id = ? AND msg_offset = ?",
      attempt,
      leaseUntil,
      endpoint.id,
      row.msg_offset,
    );
    claims.push({
      endpointId: endpoint.id,
      endpoint: endpoint.name,
      offset: row.msg_offset,
      attempt,
      url: endpoint.options.url,
      secrets: secretColumns(endpoint.row),
      timeoutMs: endpoint.options.timeoutMs,
      leaseUntil,
      webhookId: webhookMessageId(record, row.msg_offset),
      payload: payloadJson(record.name, record.partition, row.msg_offset, content, attempt, logged?.visible_at ?? null),
      content,
    });
  }
  return claims;
}

function loggedRow(sql: SqlStorage, offset: number): MessageRow | null {
  return sql.exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE msg_offset = ?`, offset).toArray()[0] ?? null;
}

function skipTrimmed(sql: SqlStorage, endpoint: Endpoint, row: QueueRow, now: number): void {
  sql.exec("DELETE FROM webhook_queue WHERE webhook_id = ? AND msg_offset = ?", endpoint.id, row.msg_offset);
  logAttempt(sql, endpoint.id, {
    offset: row.msg_offset,
    attempt: row.attempts,
    at: now,
    status: null,
    error: DeliveryError.Trimmed,
    durationMs: 0,
    outcome: DeliveryOutcome.Skipped,
  });
}

/** The delivery body: exactly the Message shape of shared/messages.ts, plus `station`. */
function payloadJson(station: string, partition: number, offset: number, content: StoredMessage, attempt: number, visibleAt: number | null): string {
  const message = messageJson(
    {
      msg_offset: offset,
      producer: content.producer,
      seq: content.seq,
      msg_id: content.id,
      msg_key: content.key,
      headers: content.headers,
      body: content.body,
      produced_at: content.producedAt,
      bytes: content.bytes,
      schema_version: null,
      visible_at: visibleAt,
    },
    partition,
    attempt,
  );
  return `${message.slice(0, -1)},"station":${JSON.stringify(station)}}`;
}

/**
 * Records one attempt: a 2xx clears the failure streak; 410 disables the endpoint (the message
 * waits for re-enabling); other failures retry per schedule (or `Retry-After`), and after the
 * last one the message goes to the DLS and the endpoint moves on. Failing for `disableAfterMs`
 * without a success disables the endpoint. Returns what became of the attempt.
 */
export function recordAttempt(sql: SqlStorage, claim: Claim, result: AttemptResult, now: number): DeliveryOutcome | null {
  const endpoint = loadEndpointById(sql, claim.endpointId);
  if (endpoint === null) return null; // deleted while the attempt was in flight
  if (result.resealed) resealSecrets(sql, endpoint.id, result.resealed.basis, result.resealed.sealed);
  if (result.secretUnavailable) return waitForSecret(sql, endpoint, claim, result, now);
  const queued = sql
    .exec<QueueRow>("SELECT * FROM webhook_queue WHERE webhook_id = ? AND msg_offset = ?", endpoint.id, claim.offset)
    .toArray()[0];
  const delivered = result.status !== null && result.status >= 200 && result.status < 300;
  let outcome: DeliveryOutcome;
  if (delivered) {
    if (queued) sql.exec("DELETE FROM webhook_queue WHERE webhook_id = ? AND msg_offset = ?", endpoint.id, claim.offset);
    sql.exec(
      `UPDATE webhooks SET delivered = delivered + 1, last_status = ?, last_error = NULL, last_attempt_at = ?,
         last_success_at = ?, consecutive_failures = 0, failing_since = NULL WHERE id = ?`,
      result.status,
      result.at,
      now,
      endpoint.id,
    );
    outcome = DeliveryOutcome.Delivered;
  } else {
    const failingSince = endpoint.failingSince ?? result.at;
    sql.exec(
      `UPDATE webhooks SET last_status = ?, last_error = ?, last_attempt_at = ?, consecutive_failures = consecutive_failures + 1,
         failing_since = ? WHERE id = ?`,
      result.status,
      result.error,
      result.at,
      failingSince,
      endpoint.id,
    );
    outcome = queued ? failQueued(sql, endpoint, claim, queued, result, now) : DeliveryOutcome.Retrying;
    const { disableAfterMs } = endpoint.options;
    if (outcome !== DeliveryOutcome.Disabled && endpoint.enabled && disableAfterMs > 0 && now - failingSince >= disableAfterMs) {
      disableEndpoint(sql, endpoint.id, DisabledReason.Failing, now);
      if (outcome === DeliveryOutcome.Retrying) outcome = DeliveryOutcome.Disabled;
    }
  }
  const attempt: DeliveryAttempt = {
    offset: claim.offset,
    attempt: claim.attempt,
    at: result.at,
    status: result.status,
    error: result.error,
    durationMs: result.durationMs,
    outcome,
  };
  logAttempt(sql, endpoint.id, attempt);
  countThroughput(sql, now, { delivered: 1 });
  return outcome;
}

/**
 * Nothing was sent: the worker cannot open the endpoint's secret. The attempt is not counted and
 * the failure streak does not grow (it is the worker's configuration, not the endpoint); the
 * message waits a minute and the health says why.
 */
function waitForSecret(sql: SqlStorage, endpoint: Endpoint, claim: Claim, result: AttemptResult, now: number): DeliveryOutcome {
  sql.exec(
    "UPDATE webhook_queue SET attempts = max(0, attempts - 1), next_attempt_at = ? WHERE webhook_id = ? AND msg_offset = ?",
    now + SECRET_UNAVAILABLE_RETRY_MS,
    endpoint.id,
    claim.offset,
  );
  sql.exec("UPDATE webhooks SET last_status = NULL, last_error = ?, last_attempt_at = ? WHERE id = ?", result.error, result.at, endpoint.id);
  logAttempt(sql, endpoint.id, {
    offset: claim.offset,
    attempt: claim.attempt,
    at: result.at,
    status: null,
    error: result.error,
    durationMs: 0,
    outcome: DeliveryOutcome.Retrying,
  });
  return DeliveryOutcome.Retrying;
}

function failQueued(sql: SqlStorage, endpoint: Endpoint, claim: Claim, queued: QueueRow, result: AttemptResult, now: number): DeliveryOutcome {
  if (result.status === 410 || result.urlRefused) {
    // The message waits, its attempt uncounted, for the endpoint to be fixed and re-enabled.
    sql.exec(
      "UPDATE webhook_queue SET attempts = attempts - 1, next_attempt_at = ? WHERE webhook_id = ? AND msg_offset = ?",
      now,
      endpoint.id,
      claim.offset,
    );
    disableEndpoint(sql, endpoint.id, result.urlRefused ? DisabledReason.UrlNotAllowed : DisabledReason.Gone, now);
    return DeliveryOutcome.Disabled;
  }
  const retryAfterMs = result.status !== null && honoursRetryAfter(result.status) ? result.retryAfterMs : null;
  const delayMs = nextRetryDelayMs(endpoint.options.retry.scheduleMs, queued.attempts, retryAfterMs);
  if (delayMs !== null) {
    sql.exec("UPDATE webhook_queue SET next_attempt_at = ? WHERE webhook_id = ? AND msg_offset = ?", now + delayMs, endpoint.id, claim.offset);
    return DeliveryOutcome.Retrying;
  }
  sql.exec("DELETE FROM webhook_queue WHERE webhook_id = ? AND msg_offset = ?", endpoint.id, claim.offset);
  sql.exec("UPDATE webhooks SET dead_lettered = dead_lettered + 1 WHERE id = ?", endpoint.id);
  addDeadLetter(
    sql,
    {
      offset: claim.offset,
      group: webhookGroupName(endpoint.name),
      reason: DeadLetterReason.WebhookFailed,
      deliveries: queued.attempts,
      message: claim.content,
      detail: { webhook: endpoint.name, url: claim.url, status: result.status, error: result.error, webhookId: claim.webhookId },
    },
    now,
  );
  return DeliveryOutcome.DeadLettered;
}

/** When delivery has work: `dueNow` if an attempt could be claimed at `now`, and the earliest later time. */
export interface WebhooksDue {
  dueNow: boolean;
  /** The earliest attempt due strictly after `now` (a retry, or the lease of one in flight), or null. */
  next: number | null;
}

/**
 * When enabled endpoints have something to send. `dueNow`: a claim at `now` would start an
 * attempt — a queue has room and the log has messages past its cursor, or a waiting attempt's
 * time has come (ordered: the lowest offset, with nothing in flight) and the endpoint has a free
 * slot. Work that waits only for a slot is not due: the attempt in flight fills the slot again
 * when it ends. `next`: the earliest time after `now` an attempt falls due, leases included
 * (the safety net for attempts lost with the object).
 */
export function webhooksDue(sql: SqlStorage, record: StationRecord, now: number, inFlight: InFlightView, poolFull: boolean): WebhooksDue {
  let dueNow = false;
  let next: number | null = null;
  const later = (at: number | null) => {
    if (at !== null && at > now && (next === null || at < next)) next = at;
  };
  for (const endpoint of listEndpoints(sql, true)) {
    const busy = inFlight.count(endpoint.id);
    const room = endpoint.options.ordered ? (busy === 0 ? 1 : 0) : endpoint.options.maxInFlight - busy;
    const queued = sql.exec<{ n: number }>("SELECT count(*) AS n FROM webhook_queue WHERE webhook_id = ?", endpoint.id).one().n;
    const queuedVisible = queued === 0 ? 0 : countQueuedVisible(sql, endpoint.id, now);
    if (!poolFull && room > 0 && queuedVisible < endpoint.options.maxInFlight && Math.max(endpoint.nextOffset, record.firstOffset) < record.nextOffset) {
      dueNow = true;
    }
    if (queued === 0) continue;
    later(sql.exec<{ t: number | null }>("SELECT min(next_attempt_at) AS t FROM webhook_queue WHERE webhook_id = ? AND next_attempt_at > ?", endpoint.id, now).one().t);
    if (poolFull || room <= 0 || dueNow) continue;
    if (endpoint.options.ordered) {
      const head = orderedHead(sql, endpoint.id, now);
      if (head && head.next_attempt_at <= now) dueNow = true;
    } else {
      const due = sql
        .exec<{ msg_offset: number }>("SELECT msg_offset FROM webhook_queue WHERE webhook_id = ? AND next_attempt_at <= ? ORDER BY msg_offset LIMIT ?", endpoint.id, now, busy + 1)
        .toArray();
      if (due.some((row) => !inFlight.has(endpoint.id, row.msg_offset))) dueNow = true;
    }
  }
  return { dueNow, next };
}

/**
 * Puts a `webhook_failed` dead letter back into its endpoint's queue (DLS resend). Refused when
 * the endpoint is gone. The message's copy travels with it: the log may have trimmed it since.
 */
export function requeueDeadLetter(
  sql: SqlStorage,
  endpointName: string,
  offset: number | null,
  content: StoredMessage,
  now: number,
): Result<null> {
  const endpoint = sql.exec<{ id: number }>("SELECT id FROM webhooks WHERE name = ?", endpointName).toArray()[0];
  if (!endpoint) return fail(ErrorCode.WebhookNotFound, `No webhook endpoint ${endpointName} to resend to`);
  if (offset === null) return fail(ErrorCode.NotResendable, "A dead letter without an offset cannot go to a webhook");
  sql.exec(
    `INSERT INTO webhook_queue (webhook_id, msg_offset, attempts, next_attempt_at, message) VALUES (?, ?, 0, ?, ?)
     ON CONFLICT (webhook_id, msg_offset) DO UPDATE SET attempts = 0, next_attempt_at = excluded.next_attempt_at, message = excluded.message`,
    endpoint.id,
    offset,
    now,
    JSON.stringify(content),
  );
  return ok(null);
}
