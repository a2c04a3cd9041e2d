// The station's rulings on a sequenced producer's seqs (invariant 2 of the design): each
// (producer, seq) is stored at an offset, dead-lettered for its schema, or refused — the third
// kept in the `refusals` table — and every resend is answered from what was ruled, before any
// check that could answer differently now. Every function runs inside the caller's transaction
// or is read-only; none decides anything new.
import { DeadLetterReason } from "../../../shared/dead-letters";
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import type { ProduceRuling, Refusal } from "../../../shared/messages";
import { planSeqs } from "../../../shared/producers";
import { utf8Length } from "../../../shared/utf8";
import { isSequenced, type PreparedBatch, type PreparedMessage } from "./batch";
import type { ProducerSeqs } from "./producers";

/** What was ruled on one seq, and the action id it was ruled for (null if none or unknown). */
interface Ruling {
  result: Omit<ProduceRuling, "seq" | "duplicate">;
  id: string | null;
}

interface RefusalRow {
  seq: number;
  code: string;
  message: string;
  details: string | null;
  action_id: string | null;
  [column: string]: SqlStorageValue;
}

/** Bytes a refusal row takes beyond its text: seq, time and the row's own keys. */
const REFUSAL_ROW_OVERHEAD_BYTES = 24;

/** Keeps the refusal of `seq`, which consumes it. Returns the bytes the row takes. */
export function recordRefusal(sql: SqlStorage, producer: string, seq: number, id: string | null, refusal: Refusal, now: number): number {
  const { code, message, ...rest } = refusal;
  const details = Object.keys(rest).length > 0 ? JSON.stringify(rest) : null;
  const bytes = REFUSAL_ROW_OVERHEAD_BYTES + utf8Length(producer) + utf8Length(code) + utf8Length(message) + (details ? utf8Length(details) : 0) + (id ? utf8Length(id) : 0);
  sql.exec(
    "INSERT INTO refusals (producer, seq, code, message, details, action_id, ruled_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    producer,
    seq,
    code,
    message,
    details,
    id,
    now,
    bytes,
  );
  return bytes;
}

/**
 * Answers a batch whose seqs were all ruled before, or null when it holds new seqs (or none).
 * Read-only, and independent of the station's rate, quota, limits and schema of the moment.
 */
export function answerRuledBatch(sql: SqlStorage, producers: ProducerSeqs, batch: PreparedBatch): Result<{ results: ProduceRuling[] }> | null {
  if (!isSequenced(batch)) return null;
  const last = producers.last(batch.producer);
  const plan = planSeqs(
    last,
    batch.messages.map((message) => message.seq!),
  );
  if (!plan.ok || plan.duplicates < batch.messages.length) return null;
  const results = answerResent(sql, batch.producer, batch.messages, last);
  return results.ok ? ok({ results: results.value }) : results;
}

/**
 * The results of resent messages (seqs ≤ `lastSeq`, consecutive), each its seq's ruling with
 * `duplicate: true` — or 409 `seq_conflict` when a ruled seq comes back with another action id:
 * a second writer (a restored backup) used this producer, and nothing of the batch is stored.
 * A seq whose ruling is gone (trimmed by retention, its dead letter dropped) or was ruled with
 * no id is answered as a duplicate with no offset, as before ids were kept.
 */
export function answerResent(sql: SqlStorage, producer: string, resent: readonly PreparedMessage[], lastSeq: number): Result<ProduceRuling[]> {
  if (resent.length === 0) return ok([]);
  const rulings = readRulings(sql, producer, resent[0]!.seq!, resent.at(-1)!.seq!);
  const results: ProduceRuling[] = [];
  for (const message of resent) {
    const ruling = rulings.get(message.seq!);
    if (ruling?.id != null && message.id !== null && ruling.id !== message.id) {
      return fail(ErrorCode.SeqConflict, `Seq ${message.seq} of producer ${producer} was ruled for another action: a second writer uses this producer; move to a new producer id`, {
        producer,
        seq: message.seq,
        expectedSeq: lastSeq + 1,
      });
    }
    results.push({ seq: message.seq, ...(ruling?.result ?? { offset: null }), duplicate: true });
  }
  return ok(results);
}

/** The rulings on seqs `from..to` of `producer` still on record: log, refusals, then dead letters. */
function readRulings(sql: SqlStorage, producer: string, from: number, to: number): Map<number, Ruling> {
  const rulings = new Map<number, Ruling>();
  const count = to - from + 1;
  const stored = sql.exec<{ seq: number; msg_offset: number; msg_id: string | null }>(
    "SELECT seq, msg_offset, msg_id FROM messages WHERE producer = ? AND seq BETWEEN ? AND ?",
    producer,
    from,
    to,
  );
  for (const row of stored) rulings.set(row.seq, { result: { offset: row.msg_offset }, id: row.msg_id });
  if (rulings.size === count) return rulings;

  const refused = sql.exec<RefusalRow>("SELECT seq, code, message, details, action_id FROM refusals WHERE producer = ? AND seq BETWEEN ? AND ?", producer, from, to);
  for (const row of refused) rulings.set(row.seq, { result: { offset: null, refused: refusalOf(row) }, id: row.action_id });
  if (rulings.size === count) return rulings;

  // Dead letters keep the message: one the schema sent there never had an offset; one a group
  // or endpoint gave up on still tells the offset it was stored at, after retention trimmed it.
  const letters = sql.exec<{ seq: number; msg_offset: number | null; msg_id: string | null; reason: string }>(
    "SELECT seq, msg_offset, msg_id, reason FROM dead_letters WHERE producer = ? AND seq BETWEEN ? AND ?",
    producer,
    from,
    to,
  );
  for (const row of letters) {
    if (rulings.has(row.seq)) continue;
    if (row.msg_offset !== null) rulings.set(row.seq, { result: { offset: row.msg_offset }, id: row.msg_id });
    else if (row.reason === DeadLetterReason.SchemaViolation) rulings.set(row.seq, { result: { offset: null, deadLettered: true }, id: row.msg_id });
  }
  return rulings;
}

function refusalOf(row: RefusalRow): Refusal {
  const details = row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {};
  return Object.assign({ code: row.code, message: row.message }, details, { code: row.code, message: row.message });
}
