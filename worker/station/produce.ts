// Produce: one batch stored whole or not at all, with the producer/seq rule (shared/producers)
// and the id dedup window. Runs inside the Station's storage transaction; returns a Result.
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { ProduceResponse, ProduceResult } from "../../shared/messages";
import { planSeqs } from "../../shared/producers";
import type { CompiledSchema } from "../schemas/compile-schema";
import type { PreparedBatch } from "./batch";
import { offsetOfId, rememberId } from "./dedup";
import { appendMessage } from "./log";
import { offsetsOfSeqs, type ProducerSeqs } from "./producers";
import { deadLetteredSeqs, deadLetterViolation, refuseBatch, screenBatch } from "./schema-screen";
import type { StationRecord } from "./station-record";

/** `schema`: the station's schema in force for this batch (see schema-cache), or null. */
export function produceBatch(
  sql: SqlStorage,
  producers: ProducerSeqs,
  record: StationRecord,
  batch: PreparedBatch,
  now: number,
  schema: CompiledSchema | null = null,
): Result<ProduceResponse> {
  const { config } = record;
  const oversized = batch.messages.findIndex((m) => m.bodyBytes > config.maxMessageBytes);
  if (oversized >= 0) {
    return fail(ErrorCode.MessageTooLarge, `Message ${oversized} has a body of ${batch.messages[oversized]!.bodyBytes} bytes; this station takes at most ${config.maxMessageBytes}`, {
      index: oversized,
      bytes: batch.messages[oversized]!.bodyBytes,
      maxMessageBytes: config.maxMessageBytes,
    });
  }

  const seqs = batch.messages.map((m) => m.seq).filter((seq): seq is number => seq !== null);
  let duplicates = 0;
  let knownOffsets = new Map<number, number>();
  let deadLettered = new Set<number>();
  if (batch.producer !== null && seqs.length > 0) {
    const plan = planSeqs(producers.last(batch.producer), seqs);
    if (!plan.ok && plan.reason === "seq_gap") {
      return fail(ErrorCode.SeqGap, `Producer ${batch.producer} must resume at seq ${plan.expectedSeq}, got ${plan.receivedSeq}`, {
        producer: batch.producer,
        expectedSeq: plan.expectedSeq,
        receivedSeq: plan.receivedSeq,
      });
    }
    if (!plan.ok) {
      return fail(ErrorCode.InvalidRequest, "The seqs of a batch must increase by one", {
        issues: [{ path: `messages.${plan.index}.seq`, message: "Not the previous seq + 1" }],
      });
    }
    duplicates = plan.duplicates;
    if (duplicates > 0) knownOffsets = offsetsOfSeqs(sql, batch.producer, seqs[0]!, seqs[duplicates - 1]!);
    // Resent seqs missing from the log may have gone to the DLS for their schema: say so.
    if (knownOffsets.size < duplicates) deadLettered = deadLetteredSeqs(sql, batch.producer, seqs[0]!, seqs[duplicates - 1]!);
  }

  const dedupWindowMs = config.dedupWindowMs;
  // Every body is checked before the first write: a refused batch leaves nothing behind.
  // With dls.onSchemaFailure the failing messages go to the DLS and the rest to the log.
  const violations = schema ? screenBatch(sql, schema, batch, duplicates, dedupWindowMs, now) : [];
  if (violations.length > 0 && !config.dls.onSchemaFailure) return refuseBatch(schema!, violations, batch.messages.length);
  const failing = new Map(violations.map((violation) => [violation.index, violation]));

  const idsInBatch = new Map<string, number>();
  const results: ProduceResult[] = [];
  batch.messages.forEach((message, index) => {
    if (index < duplicates) {
      const offset = knownOffsets.get(message.seq!) ?? null;
      if (offset === null && deadLettered.has(message.seq!)) results.push({ seq: message.seq, offset, duplicate: true, deadLettered: true });
      else results.push({ seq: message.seq, offset, duplicate: true });
      return;
    }
    const dedupById = message.seq === null && message.id !== null && dedupWindowMs > 0;
    if (dedupById) {
      const earlier = idsInBatch.get(message.id!) ?? offsetOfId(sql, message.id!, now);
      if (earlier !== null) {
        results.push({ seq: null, offset: earlier, duplicate: true });
        return;
      }
    }
    const violation = failing.get(index);
    if (violation) {
      deadLetterViolation(sql, schema!, batch.producer, message, violation, now);
      results.push({ seq: message.seq, offset: null, duplicate: false, deadLettered: true });
      return;
    }
    const offset = appendMessage(sql, record, batch.producer, message, now);
    if (dedupById) {
      rememberId(sql, message.id!, offset, now + dedupWindowMs);
      idsInBatch.set(message.id!, offset);
    }
    results.push({ seq: message.seq, offset, duplicate: false });
  });

  if (batch.producer !== null && seqs.length > duplicates) producers.record(batch.producer, seqs[seqs.length - 1]!, now);
  record.save(sql);
  return ok({ results });
}
