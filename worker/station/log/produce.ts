// Produce: one batch ruled in one transaction. A sequenced batch (producer + seq, shared/producers)
// gets a ruling per seq — stored, dead-lettered for its schema, or refused with the seq consumed —
// and resent seqs get their earlier ruling. A batch without seq is stored whole or refused whole,
// with the id dedup window. Runs inside the Station's storage transaction; returns a Result.
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import type { ProduceRuling, Refusal } from "../../../shared/messages";
import { planSeqs } from "../../../shared/producers";
import { isSequenced, type PreparedBatch, type PreparedMessage } from "./batch";
import { offsetOfId, rememberId } from "./dedup";
import { checkDocBatch, docDelayProblem, docUpdateProblem, isDocStation } from "../documents";
import { appendMessage } from "./messages";
import type { ProducerSeqs } from "./producers";
import { answerResent, recordRefusal } from "./rulings";
import { deadLetterViolation, refuseBatch, type SchemaChoice, schemaRefusal, screenBatch } from "../schema";
import type { StationRecord } from "./record";

/** `schemas`: the station's schema versions for this batch (see schema-cache), or null. Each stored message records the version it was checked against. */
export function produceBatch(
  sql: SqlStorage,
  producers: ProducerSeqs,
  record: StationRecord,
  batch: PreparedBatch,
  now: number,
  schemas: SchemaChoice | null = null,
): Result<{ results: ProduceRuling[] }> {
  const produced = isSequenced(batch) ? produceSequenced(sql, producers, record, batch, now, schemas) : produceUnsequenced(sql, record, batch, now, schemas);
  if (produced.ok) record.save(sql);
  return produced;
}

function produceSequenced(
  sql: SqlStorage,
  producers: ProducerSeqs,
  record: StationRecord,
  batch: PreparedBatch & { producer: string },
  now: number,
  schemas: SchemaChoice | null,
): Result<{ results: ProduceRuling[] }> {
  const { producer } = batch;
  const seqs = batch.messages.map((message) => message.seq!);
  const lastSeq = producers.last(producer);
  const plan = planSeqs(lastSeq, seqs);
  if (!plan.ok && plan.reason === "seq_gap") {
    return fail(ErrorCode.SeqGap, `Producer ${producer} must resume at seq ${plan.expectedSeq}, got ${plan.receivedSeq}`, {
      producer,
      expectedSeq: plan.expectedSeq,
      receivedSeq: plan.receivedSeq,
    });
  }
  if (!plan.ok) {
    return fail(ErrorCode.InvalidRequest, "The seqs of a batch must increase by one", {
      issues: [{ path: `messages.${plan.index}.seq`, message: "Not the previous seq + 1" }],
    });
  }
  // Resent seqs first, answered from their rulings before any check of the moment.
  const resent = answerResent(sql, producer, batch.messages.slice(0, plan.duplicates), lastSeq);
  if (!resent.ok) return resent;
  const results = resent.value;
  for (const message of batch.messages.slice(plan.duplicates)) {
    results.push(ruleNew(sql, record, producer, message, now, schemas));
  }
  if (seqs.length > plan.duplicates) producers.record(producer, seqs.at(-1)!, now);
  return ok({ results });
}

/** Rules on a new seq: refused for what the message is, dead-lettered by the schema, or stored. */
function ruleNew(sql: SqlStorage, record: StationRecord, producer: string, message: PreparedMessage, now: number, schemas: SchemaChoice | null): ProduceRuling {
  const seq = message.seq!;
  const refusal = refusalOf(record, message);
  if (refusal) {
    recordRefusal(sql, producer, seq, message.id, refusal, now);
    return { seq, offset: null, duplicate: false, refused: refusal };
  }
  const schema = schemas?.forMessage(message) ?? null;
  const failure = schema?.check(message.body) ?? null;
  if (failure && record.config.dls.onSchemaFailure) {
    deadLetterViolation(sql, schema!, producer, message, { index: 0, seq, ...failure }, now);
    return { seq, offset: null, duplicate: false, deadLettered: true };
  }
  if (failure) {
    const refused = schemaRefusal(schema!, seq, failure);
    recordRefusal(sql, producer, seq, message.id, refused, now);
    return { seq, offset: null, duplicate: false, refused };
  }
  return { seq, offset: appendMessage(sql, record, producer, message, now, schema?.ref.version ?? null), duplicate: false };
}

/** What makes a new sequenced message unstorable whatever the schema says, in the order checked. */
function refusalOf(record: StationRecord, message: PreparedMessage): Refusal | null {
  if (message.refused) return message.refused;
  const { maxMessageBytes } = record.config;
  if (message.bodyBytes > maxMessageBytes) {
    return {
      code: ErrorCode.MessageTooLarge,
      message: `Seq ${message.seq} has a body of ${message.bodyBytes} bytes; this station takes at most ${maxMessageBytes}`,
      bytes: message.bodyBytes,
      maxMessageBytes,
    };
  }
  if (isDocStation(record)) {
    const problem = docUpdateProblem(message.body);
    if (problem !== null) return { code: ErrorCode.InvalidDocUpdate, message: `Seq ${message.seq}: ${problem}` };
    const delay = docDelayProblem(message);
    if (delay !== null) return { code: ErrorCode.InvalidRequest, message: `Seq ${message.seq}: ${delay}`, delayMs: message.delayMs };
  }
  return null;
}

function produceUnsequenced(sql: SqlStorage, record: StationRecord, batch: PreparedBatch, now: number, schemas: SchemaChoice | null): Result<{ results: ProduceRuling[] }> {
  const { config } = record;
  const oversized = batch.messages.findIndex((m) => m.bodyBytes > config.maxMessageBytes);
  if (oversized >= 0) {
    return fail(ErrorCode.MessageTooLarge, `Message ${oversized} has a body of ${batch.messages[oversized]!.bodyBytes} bytes; this station takes at most ${config.maxMessageBytes}`, {
      index: oversized,
      bytes: batch.messages[oversized]!.bodyBytes,
      maxMessageBytes: config.maxMessageBytes,
    });
  }
  if (isDocStation(record)) {
    const checked = checkDocBatch(batch);
    if (!checked.ok) return checked;
  }

  const dedupWindowMs = config.dedupWindowMs;
  // Every body is checked before the first write: a refused batch leaves nothing behind.
  // With dls.onSchemaFailure the failing messages go to the DLS and the rest to the log.
  const violations = schemas ? screenBatch(sql, schemas, batch, dedupWindowMs, now) : [];
  if (violations.length > 0 && !config.dls.onSchemaFailure) {
    return refuseBatch(schemas!.forMessage(batch.messages[violations[0]!.index]!), violations, batch.messages.length);
  }
  const failing = new Map(violations.map((violation) => [violation.index, violation]));

  const idsInBatch = new Map<string, number>();
  const results: ProduceRuling[] = [];
  batch.messages.forEach((message, index) => {
    const dedupById = message.id !== null && dedupWindowMs > 0;
    if (dedupById) {
      const earlier = idsInBatch.get(message.id!) ?? offsetOfId(sql, message.id!, now);
      if (earlier !== null) {
        results.push({ seq: null, offset: earlier, duplicate: true });
        return;
      }
    }
    const violation = failing.get(index);
    if (violation) {
      deadLetterViolation(sql, schemas!.forMessage(message), batch.producer, message, violation, now);
      results.push({ seq: null, offset: null, duplicate: false, deadLettered: true });
      return;
    }
    const offset = appendMessage(sql, record, batch.producer, message, now, schemas?.forMessage(message).ref.version ?? null);
    if (dedupById) {
      rememberId(sql, message.id!, offset, now + dedupWindowMs);
      idsInBatch.set(message.id!, offset);
    }
    results.push({ seq: null, offset, duplicate: false });
  });
  return ok({ results });
}
