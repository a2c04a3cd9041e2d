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
import type { Result } from "../../shared/errors";
import type { DeadLetter, DeadLetterQuery, DeadLetterReason, DeadLettersResponse, ResendRefusal } from "../../shared/dead-letters";
import { DEFAULT_DLS_LIMIT, MAX_DEAD_LETTER_BYTES, MAX_DEAD_LETTERS, MAX_READ_BYTES } from "../../shared/limits";
import type { PreparedMessage } from "./log/batch";
import { type MessageColumns, toMessage } from "./log/rows";
import { countEvicted, readStorageUsage } from "./log/storage-usage";

/** A message as a dead letter keeps it: the log's columns, JSON kept as text. */
export interface StoredMessage {
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
  message: StoredMessage;
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
export function contentOfRow(row: MessageColumns): StoredMessage {
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
export function contentOfPrepared(producer: string | null, message: PreparedMessage, now: number): StoredMessage {
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

/** The DLS's own bound (shared/limits.ts); tests pass smaller ones. */
export interface DeadLetterBound {
  maxLetters: number;
  maxBytes: number;
}

const DEFAULT_BOUND: DeadLetterBound = { maxLetters: MAX_DEAD_LETTERS, maxBytes: MAX_DEAD_LETTER_BYTES };

/**
 * Files one dead letter; returns its id (increasing, never reused). Past the DLS's bound the
 * oldest letters are dropped and counted: the filers (an alarm's expiry, a webhook's last
 * retry) cannot be refused, and the newest failure is the one an operator looks for first.
 */
export function addDeadLetter(sql: SqlStorage, letter: NewDeadLetter, now: number, bound: DeadLetterBound = DEFAULT_BOUND): number {
  const id = insertDeadLetter(sql, letter, now);
  evictBeyond(sql, bound);
  return id;
}

/** Drops the oldest dead letters until the DLS is within `bound`; returns how many went. */
export function evictBeyond(sql: SqlStorage, bound: DeadLetterBound): number {
  const usage = readStorageUsage(sql);
  const excessLetters = usage.deadLetters - bound.maxLetters;
  const excessBytes = usage.deadLetterBytes - bound.maxBytes;
  if (excessLetters <= 0 && excessBytes <= 0) return 0;
  // The lowest id that must go for each bound: by count, the n-th oldest; by bytes, the first
  // whose running total (oldest first) covers the excess. Everything up to the higher one goes.
  let lastGone = 0;
  if (excessLetters > 0) {
    lastGone = sql.exec<{ id: number }>("SELECT id FROM dead_letters ORDER BY id LIMIT 1 OFFSET ?", excessLetters - 1).one().id;
  }
  if (excessBytes > 0) {
    const row = sql
      .exec<{ id: number }>(
        `SELECT id FROM (SELECT id, sum(bytes + coalesce(length(CAST(msg_id AS BLOB)), 0) + coalesce(length(CAST(detail AS BLOB)), 0))
           OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS running FROM dead_letters)
         WHERE running >= ? ORDER BY id LIMIT 1`,
        excessBytes,
      )
      .toArray()[0];
    lastGone = Math.max(lastGone, row?.id ?? lastGone);
  }
  const gone = sql.exec("DELETE FROM dead_letters WHERE id <= ? RETURNING id", lastGone).toArray().length;
  countEvicted(sql, gone);
  return gone;
}

function insertDeadLetter(sql: SqlStorage, letter: NewDeadLetter, now: number): number {
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

/**
 * A page of dead letters, oldest first, filtered by group and reason: at most `limit` letters
 * and MAX_READ_BYTES of their stored bytes (at least one letter). The ids and sizes are read
 * first and the page cut in SQL; only the letters that fit are loaded whole. `next` is the
 * `after` of the following page, null at the end.
 */
export function listDeadLetters(sql: SqlStorage, partition: number, query: DeadLetterQuery, maxBytes: number = MAX_READ_BYTES): DeadLettersResponse {
  const limit = query.limit ?? DEFAULT_DLS_LIMIT;
  const { where, params } = filterClause({ group: query.group, reason: query.reason, after: query.after });
  const cut = pageCut(sql, where, params, limit, maxBytes);
  const rows =
    cut.last === null
      ? []
      : sql.exec<DeadLetterRow>(`SELECT * FROM dead_letters ${where ? `${where} AND` : "WHERE"} id <= ? ORDER BY id LIMIT ?`, ...params, cut.last, limit).toArray();
  return { deadLetters: rows.map((row) => toDeadLetter(row, partition)), next: cut.more ? cut.last : null, evicted: readStorageUsage(sql).deadLettersEvicted };
}

/**
 * The last id of a page (null if empty) of at most `limit` letters and `maxBytes` stored bytes
 * (at least one letter), and whether more letters match after it. Reads ids and sizes only.
 */
function pageCut(sql: SqlStorage, where: string, params: SqlStorageValue[], limit: number, maxBytes: number): { last: number | null; more: boolean } {
  const row = sql
    .exec<{ last: number | null; taken: number; seen: number }>(
      `SELECT max(CASE WHEN fits THEN id END) AS last, coalesce(sum(fits), 0) AS taken, count(*) AS seen
       FROM (SELECT id, (n <= ? AND (n = 1 OR running <= ?)) AS fits
             FROM (SELECT id, row_number() OVER w AS n, sum(${LETTER_BYTES}) OVER w AS running
                   FROM (SELECT id, bytes, msg_id, detail FROM dead_letters ${where} ORDER BY id LIMIT ?)
                   WINDOW w AS (ORDER BY id ROWS UNBOUNDED PRECEDING)))`,
      limit,
      maxBytes,
      ...params,
      limit + 1,
    )
    .one();
  return { last: row.last, more: row.seen > row.taken };
}

/** Stored bytes of a dead letter row, as the quota counts them (log/storage-usage.ts). */
const LETTER_BYTES = "bytes + coalesce(length(CAST(msg_id AS BLOB)), 0) + coalesce(length(CAST(detail AS BLOB)), 0)";

/** Removes one dead letter; false if there was none. */
export function dropDeadLetter(sql: SqlStorage, id: number): boolean {
  return sql.exec("DELETE FROM dead_letters WHERE id = ? RETURNING id", id).toArray().length > 0;
}

/** Dead letters stored now (a running counter, log/storage-usage.ts). */
export function countDeadLetters(sql: SqlStorage): number {
  return readStorageUsage(sql).deadLetters;
}

export function countDeadLettersByGroup(sql: SqlStorage): Map<string, number> {
  const rows = sql
    .exec<{ group_name: string; n: number }>("SELECT group_name, count(*) AS n FROM dead_letters WHERE group_name IS NOT NULL GROUP BY group_name")
    .toArray();
  return new Map(rows.map((r) => [r.group_name, r.n]));
}

/** Where a resent dead letter goes: the part that owns its reason puts it back, or refuses. */
export type ResendTarget = (letter: DeadLetterRow) => Result<null>;

export type ResendSelection = { ids: number[] } | { all: true; group?: string; reason?: DeadLetterReason };

export interface ResendOutcome {
  resent: number;
  missing: number[];
  refused: ResendRefusal[];
  /** More dead letters match `all` than one request resends; send it again. */
  more: boolean;
}

/** How much one resend may take: letters, and their stored bytes (at least one letter). */
export interface ResendBudget {
  maxLetters: number;
  maxBytes: number;
  /** Bodies are loaded at most this many bytes at a time. */
  chunkBytes: number;
}

/**
 * Hands each selected dead letter to `target`; those it takes leave the DLS, the others stay
 * and are reported with its reason. The selection is walked by id and size first; the letters
 * themselves are loaded in chunks of at most `chunkBytes` (at least one letter), so memory
 * stays bounded however many and however large they are. Bounded per call by `budget`;
 * `more` says to call again.
 */
export function resendDeadLetters(sql: SqlStorage, selection: ResendSelection, target: ResendTarget, budget: ResendBudget): ResendOutcome {
  const plan = planResend(sql, selection, budget);
  const taken: number[] = [];
  const refused: ResendRefusal[] = [];
  for (const chunk of chunksOf(plan.letters, budget.chunkBytes)) {
    const rows = sql.exec<DeadLetterRow>("SELECT * FROM dead_letters WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", JSON.stringify(chunk)).toArray();
    for (const row of rows) {
      const outcome = target(row);
      if (outcome.ok) taken.push(row.id);
      else refused.push({ id: row.id, code: outcome.error.code, message: outcome.error.message });
    }
  }
  if (taken.length > 0) sql.exec("DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(taken));
  return { resent: taken.length, missing: plan.missing, refused, more: plan.more };
}

interface LetterSize {
  id: number;
  bytes: number;
}

/** The letters a resend takes, by id and size (no bodies), within its budget. */
function planResend(sql: SqlStorage, selection: ResendSelection, budget: ResendBudget): { letters: LetterSize[]; missing: number[]; more: boolean } {
  let found: LetterSize[];
  let missing: number[] = [];
  let more = false;
  if ("ids" in selection) {
    const ids = [...new Set(selection.ids)].slice(0, budget.maxLetters);
    found = sql
      .exec<{ id: number; bytes: number }>(`SELECT id, ${LETTER_BYTES} AS bytes FROM dead_letters WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, JSON.stringify(ids))
      .toArray()
      .map((r) => ({ id: r.id, bytes: r.bytes }));
    const present = new Set(found.map((r) => r.id));
    missing = ids.filter((id) => !present.has(id));
  } else {
    const { where, params } = filterClause({ group: selection.group, reason: selection.reason });
    found = sql
      .exec<{ id: number; bytes: number }>(`SELECT id, ${LETTER_BYTES} AS bytes FROM dead_letters ${where} ORDER BY id LIMIT ?`, ...params, budget.maxLetters + 1)
      .toArray()
      .map((r) => ({ id: r.id, bytes: r.bytes }));
    more = found.length > budget.maxLetters;
    found = found.slice(0, budget.maxLetters);
  }
  let total = 0;
  let fits = 0;
  for (const letter of found) {
    if (fits > 0 && total + letter.bytes > budget.maxBytes) break;
    total += letter.bytes;
    fits += 1;
  }
  // Named ids past the byte budget stay where they are; the caller names them again.
  return { letters: found.slice(0, fits), missing, more: more || fits < found.length };
}

/** Splits letters (in order) into runs of at most `maxBytes` stored bytes, at least one letter each. */
export function chunksOf(letters: readonly LetterSize[], maxBytes: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const letter of letters) {
    if (current.length > 0 && bytes + letter.bytes > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(letter.id);
    bytes += letter.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The wire shape of a stored dead letter. */
export function toDeadLetter(row: DeadLetterRow, partition: number): DeadLetter {
  return {
    id: row.id,
    partition,
    offset: row.msg_offset,
    group: row.group_name,
    reason: row.reason as DeadLetterReason,
    deliveries: row.deliveries,
    // The log's one conversion; a dead letter keeps neither visibility nor schema stamp.
    message: { ...toMessage({ ...row, msg_offset: 0, visible_at: null, schema_version: null }, partition, row.deliveries), offset: row.msg_offset },
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
