// The dead-letter station: where any part of a station files a message it gave up on, with
// the reason, and where operators browse, resend and drop them. Generic on purpose: groups
// (`max_deliveries`), schemas (`schema_violation`) and webhooks (`webhook_failed`) all use it.
// Every function runs inside the caller's storage transaction; none throws for expected cases.
//
// Filing one, e.g. from the produce path with `dls.onSchemaFailure`:
//   addDeadLetter(sql, { offset: null, group: null, reason: DeadLetterReason.SchemaViolation,
//     deliveries: 0, message: contentOfPrepared(batch.producer, message, now), detail: { errors } }, now);
// or from a webhook that failed its last retry:
//   addDeadLetter(sql, { offset: row.msg_offset, group: webhookGroupName(name),
//     reason: DeadLetterReason.WebhookFailed, deliveries: attempts, message: contentOfRow(row),
//     detail: { status: 500 } }, now);
import type { DeadLetter, DeadLetterQuery, DeadLetterReason, DeadLettersResponse, ResendRefusal } from "../../shared/dead-letters";
import { DEFAULT_DLS_LIMIT } from "../../shared/limits";
import type { PreparedMessage } from "./batch";
import type { MessageColumns } from "./rows";

/** A message as a dead letter keeps it: the log's columns, JSON kept as text. */
export interface DeadLetterContent {
  producer: string | null;
  seq: number | null;
  id: string | null;
  key: string | null;
  /** JSON text of the headers, or null for none. */
  headers: string | null;
  /** JSON text of the body. */
  body: string;
  producedAt: number;
  bytes: number;
}

export interface NewDeadLetter {
  /** The message's offset; null if it never got one (refused by the schema). */
  offset: number | null;
  /** The group that gave up on it (an endpoint's group for webhooks); null if none. */
  group: string | null;
  reason: DeadLetterReason;
  /** Hand-outs (or delivery attempts) before giving up. */
  deliveries: number;
  message: DeadLetterContent;
  /** Anything the reason's owner wants shown with it (schema errors, last HTTP status…). */
  detail?: Record<string, unknown> | null;
}

/** A dead letter as stored (snake_case row): the message's own columns, as in the log, and its reason. */
export interface DeadLetterRow extends MessageColumns {
  id: number;
  msg_offset: number | null;
  group_name: string | null;
  reason: string;
  deliveries: number;
  detail: string | null;
  dead_at: number;
  [column: string]: SqlStorageValue;
}

/** Content of a message read from the log, or kept by a stored dead letter (same columns). */
export function contentOfRow(row: MessageColumns): DeadLetterContent {
  return {
    producer: row.producer,
    seq: row.seq,
    id: row.msg_id,
    key: row.msg_key,
    headers: row.headers,
    body: row.body,
    producedAt: row.produced_at,
    bytes: row.bytes,
  };
}

/** Content of a message of a produce batch that never reached the log. */
export function contentOfPrepared(producer: string | null, message: PreparedMessage, now: number): DeadLetterContent {
  return {
    producer,
    seq: message.seq,
    id: message.id,
    key: message.key,
    headers: message.headers,
    body: message.body,
    producedAt: now,
    bytes: message.bytes,
  };
}

/** Files one dead letter; returns its id (increasing, never reused). */
export function addDeadLetter(sql: SqlStorage, letter: NewDeadLetter, now: number): number {
  const m = letter.message;
  const row = sql
    .exec<{ id: number }>(
      `INSERT INTO dead_letters (msg_offset, group_name, reason, deliveries, producer, seq, msg_id, msg_key, headers, body, produced_at, bytes, detail, dead_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      letter.offset,
      letter.group,
      letter.reason,
      letter.deliveries,
      m.producer,
      m.seq,
      m.id,
      m.key,
      m.headers,
      m.body,
      m.producedAt,
      m.bytes,
      letter.detail ? JSON.stringify(letter.detail) : null,
      now,
    )
    .one();
  return row.id;
}

/** A page of dead letters, oldest first, filtered by group and reason. */
export function listDeadLetters(sql: SqlStorage, query: DeadLetterQuery): DeadLettersResponse {
  const limit = query.limit ?? DEFAULT_DLS_LIMIT;
  const { where, params } = filterClause({ group: query.group, reason: query.reason, after: query.after });
  const rows = sql.exec<DeadLetterRow>(`SELECT * FROM dead_letters ${where} ORDER BY id LIMIT ?`, ...params, limit + 1).toArray();
  const page = rows.slice(0, limit);
  return { deadLetters: page.map(toDeadLetter), next: rows.length > limit ? page.at(-1)!.id : null };
}

export function getDeadLetter(sql: SqlStorage, id: number): DeadLetter | null {
  const row = sql.exec<DeadLetterRow>("SELECT * FROM dead_letters WHERE id = ?", id).toArray()[0];
  return row ? toDeadLetter(row) : null;
}

/** Removes one dead letter; false if there was none. */
export function dropDeadLetter(sql: SqlStorage, id: number): boolean {
  return sql.exec("DELETE FROM dead_letters WHERE id = ? RETURNING id", id).toArray().length > 0;
}

/** Removes every dead letter of a group (when the group itself is deleted). */
export function dropDeadLettersOfGroup(sql: SqlStorage, group: string): number {
  return sql.exec("DELETE FROM dead_letters WHERE group_name = ? RETURNING id", group).toArray().length;
}

export function countDeadLetters(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM dead_letters").one().n;
}

export function countDeadLettersByGroup(sql: SqlStorage): Map<string, number> {
  const rows = sql
    .exec<{ group_name: string; n: number }>("SELECT group_name, count(*) AS n FROM dead_letters WHERE group_name IS NOT NULL GROUP BY group_name")
    .toArray();
  return new Map(rows.map((r) => [r.group_name, r.n]));
}

/** Where a resent dead letter goes: the part that owns its reason puts it back, or refuses. */
export type ResendTarget = (letter: DeadLetterRow) => { ok: true } | { ok: false; code: string; message: string };

export type ResendSelection = { ids: number[] } | { all: true; group?: string; reason?: DeadLetterReason };

export interface ResendOutcome {
  resent: number;
  missing: number[];
  refused: ResendRefusal[];
  /** More dead letters match `all` than one request resends; send it again. */
  more: boolean;
}

/**
 * Hands each selected dead letter to `target`; those it takes leave the DLS, the others stay
 * and are reported with its reason. Bounded per call (`maxLetters`); `more` says to call again.
 */
export function resendDeadLetters(sql: SqlStorage, selection: ResendSelection, target: ResendTarget, maxLetters: number): ResendOutcome {
  let rows: DeadLetterRow[];
  let missing: number[] = [];
  let more = false;
  if ("ids" in selection) {
    const ids = [...new Set(selection.ids)].slice(0, maxLetters);
    rows = sql.exec<DeadLetterRow>("SELECT * FROM dead_letters WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", JSON.stringify(ids)).toArray();
    const found = new Set(rows.map((r) => r.id));
    missing = ids.filter((id) => !found.has(id));
  } else {
    const { where, params } = filterClause({ group: selection.group, reason: selection.reason });
    rows = sql.exec<DeadLetterRow>(`SELECT * FROM dead_letters ${where} ORDER BY id LIMIT ?`, ...params, maxLetters + 1).toArray();
    more = rows.length > maxLetters;
    rows = rows.slice(0, maxLetters);
  }
  const taken: number[] = [];
  const refused: ResendRefusal[] = [];
  for (const row of rows) {
    const outcome = target(row);
    if (outcome.ok) taken.push(row.id);
    else refused.push({ id: row.id, code: outcome.code, message: outcome.message });
  }
  if (taken.length > 0) sql.exec("DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(taken));
  return { resent: taken.length, missing, refused, more };
}

/** The wire shape of a stored dead letter. */
export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    offset: row.msg_offset,
    group: row.group_name,
    reason: row.reason as DeadLetterReason,
    deliveries: row.deliveries,
    message: {
      offset: row.msg_offset,
      producer: row.producer,
      seq: row.seq,
      id: row.msg_id,
      key: row.msg_key,
      headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {},
      body: JSON.parse(row.body) as unknown,
      producedAt: row.produced_at,
      deliveries: row.deliveries,
    },
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
    deadAt: row.dead_at,
  };
}

function filterClause(filter: { group?: string | undefined; reason?: string | undefined; after?: number | undefined }) {
  const conditions: string[] = [];
  const params: SqlStorageValue[] = [];
  if (filter.group !== undefined) {
    conditions.push("group_name = ?");
    params.push(filter.group);
  }
  if (filter.reason !== undefined) {
    conditions.push("reason = ?");
    params.push(filter.reason);
  }
  if (filter.after !== undefined) {
    conditions.push("id > ?");
    params.push(filter.after);
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "", params };
}
