// Checks produce against the station's schema before anything is written. Messages already
// stored or ruled (resent seqs, ids inside the dedup window) are not checked again: they are
// answered as duplicates whatever the schema says now. A batch without seq is refused whole;
// a sequenced message that fails is ruled refused on its own (or dead-lettered, if asked).
import { DeadLetterReason } from "../../../shared/dead-letters";
import { ErrorCode, fail, type Result } from "../../../shared/errors";
import { MAX_REPORTED_VIOLATIONS, type SchemaViolation, type SchemaViolationDetails, violationMessage } from "../../../shared/schemas";
import type { Refusal } from "../../../shared/messages";
import type { BodyFailure, CompiledSchema } from "../../schemas/compile-schema";
import type { PreparedBatch, PreparedMessage } from "../log/batch";
import { addDeadLetter, contentOfPrepared } from "../dead-letters";
import { offsetOfId } from "../log/dedup";
import type { SchemaChoice } from "./cache";

/** Every failing new message of a batch without seq, in batch order. */
export function screenBatch(sql: SqlStorage, schemas: SchemaChoice, batch: PreparedBatch, dedupWindowMs: number, now: number): SchemaViolation[] {
  const violations: SchemaViolation[] = [];
  /** Ids seen earlier in this batch, and whether that message passed (then later ones are duplicates). */
  const passedById = new Map<string, boolean>();
  batch.messages.forEach((message, index) => {
    const id = message.seq === null && dedupWindowMs > 0 ? message.id : null;
    if (id !== null && (passedById.get(id) === true || offsetOfId(sql, id, now) !== null)) return;
    const failure = schemas.forMessage(message).check(message.body);
    if (id !== null) passedById.set(id, failure === null);
    if (failure) violations.push({ index, seq: message.seq, ...failure });
  });
  return violations;
}

/** The refusal of a whole batch: 422 `schema_violation` naming the first failing messages (`schema`: the first one's version). */
export function refuseBatch(schema: CompiledSchema, violations: readonly SchemaViolation[], batchSize: number): Result<never> {
  const reported = violations.slice(0, MAX_REPORTED_VIOLATIONS);
  const details: SchemaViolationDetails = { schema: schema.ref, violations: reported, violationCount: violations.length };
  // `index`: the first failing message, as other per-message refusals name it (the SDK keeps the ones before it).
  return fail(ErrorCode.SchemaViolation, violationMessage(schema.ref, reported, violations.length, batchSize), {
    index: violations[0]!.index,
    ...details,
  });
}

/**
 * Files a failing message in the DLS instead of the log (`dls.onSchemaFailure`): no offset, no
 * group, the violation as its detail. Its seq still counts as stored, so a resend is a duplicate.
 */
export function deadLetterViolation(
  sql: SqlStorage,
  schema: CompiledSchema,
  producer: string | null,
  message: PreparedMessage,
  violation: SchemaViolation,
  now: number,
): void {
  const { index: _index, seq: _seq, ...failure } = violation;
  addDeadLetter(
    sql,
    {
      offset: null,
      group: null,
      reason: DeadLetterReason.SchemaViolation,
      deliveries: 0,
      message: contentOfPrepared(producer, message, now),
      detail: { schema: schema.ref, ...failure },
    },
    now,
  );
}

/** Longest JSON Pointer a kept refusal repeats: a body's keys may be as long as the body. */
const MAX_POINTER_LENGTH = 300;

const clip = (pointer: string) => (pointer.length > MAX_POINTER_LENGTH ? `${pointer.slice(0, MAX_POINTER_LENGTH)}…` : pointer);

/** The ruling on a sequenced message that fails the schema: what the batch refusal says of one message, without its index. */
export function schemaRefusal(schema: CompiledSchema, seq: number, failure: BodyFailure): Refusal {
  const bounded = { ...failure, path: clip(failure.path), schemaPath: clip(failure.schemaPath) };
  const where = bounded.path ? ` at ${bounded.path}` : "";
  return {
    code: ErrorCode.SchemaViolation,
    message: `Seq ${seq} fails schema ${schema.ref.name} v${schema.ref.version}${where}: ${bounded.reason}`,
    schema: schema.ref,
    violations: [{ seq, ...bounded }],
    violationCount: 1,
  };
}
