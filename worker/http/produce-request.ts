// Turns a parsed produce request into the batch a Station rules on. Without seq the batch is
// valid whole or refused whole (413/422, nothing stored). With seq only the envelope is checked
// whole (producer, seqs, count); each message's content is checked on its own, and one that
// fails travels on as refused, so the station rules its seq (consuming it) with the rest.
import * as v from "valibot";
import { ErrorCode } from "../../shared/errors";
import { MAX_JSON_DEPTH } from "../../shared/limits";
import { lostInParsing, MessageIdSchema, type OutgoingMessage, OutgoingMessageSchema, ProduceRequestSchema, type Refusal, SequencedEnvelopeSchema } from "../../shared/messages";
import { type ValidationIssue, validate } from "../../shared/validate";
import { encodeMessage, type PreparedBatch, type PreparedMessage, refusedMessage } from "../station/batch";
import { ApiError } from "./api-error";
import { assertJsonDepth } from "./json-depth";
import { checkBatchCount, checkProduceSizes } from "./produce-size-check";
import { unwrapValidation } from "./read-json";

/** Levels above a body in a request: the request, its `messages` array, the message. */
const ENVELOPE_DEPTH = 3;

/** `parsed`: the request body as JSON.parse gave it, nesting not yet bounded. */
export function parseProduceRequest(parsed: unknown): PreparedBatch {
  return carriesSeqs(parsed) ? parseSequenced(parsed) : parseUnsequenced(parsed);
}

function carriesSeqs(parsed: unknown): boolean {
  if (typeof parsed !== "object" || parsed === null) return false;
  const messages = (parsed as { messages?: unknown }).messages;
  return Array.isArray(messages) && messages.some((message) => typeof message === "object" && message !== null && (message as { seq?: unknown }).seq !== undefined);
}

function parseUnsequenced(parsed: unknown): PreparedBatch {
  assertJsonDepth(parsed);
  checkProduceSizes(parsed);
  const request = unwrapValidation(ProduceRequestSchema, parsed);
  const raw = (parsed as { messages: unknown[] }).messages;
  const issues = raw.flatMap((message, index) => lostInParsing(message).map((issue) => ({ ...issue, path: `messages.${index}.${issue.path}` })));
  if (issues.length > 0) throw new ApiError(ErrorCode.InvalidRequest, describeIssues(issues), { issues });
  return { producer: request.producer ?? null, messages: request.messages.map(encodeMessage) };
}

function parseSequenced(parsed: unknown): PreparedBatch {
  checkBatchCount(parsed);
  const raw = parsed as { producer?: unknown; messages: unknown[] };
  if (raw.producer === undefined) {
    throw new ApiError(ErrorCode.InvalidRequest, "Messages with seq need a producer", { issues: [{ path: "producer", message: "Required with seq" }] });
  }
  const unsequenced = raw.messages.findIndex((message) => typeof message === "object" && message !== null && (message as { seq?: unknown }).seq === undefined);
  if (unsequenced >= 0) {
    throw new ApiError(ErrorCode.InvalidRequest, "Either every message of a batch has a seq or none has", {
      issues: [{ path: `messages.${unsequenced}`, message: "Mixed sequenced and unsequenced messages" }],
    });
  }
  const envelope = unwrapValidation(SequencedEnvelopeSchema, parsed);
  return {
    producer: envelope.producer,
    messages: raw.messages.map((message, index) => prepareSequenced(message as Record<string, unknown>, envelope.messages[index]!.seq)),
  };
}

/** One message of a sequenced batch: encoded, or refused with what breaks the contract. */
function prepareSequenced(message: Record<string, unknown>, seq: number): PreparedMessage {
  const checked = checkContent(message);
  if (checked.ok) return encodeMessage(checked.value);
  // The refusal is stored for good: paths built from the sender's keys are cut to a bound.
  const issues = checked.issues.map((issue) => ({ path: clip(issue.path), message: clip(issue.message) }));
  const refusal: Refusal = { code: ErrorCode.InvalidRequest, message: `Seq ${seq}: ${describeIssues(issues)}`, issues };
  // The action's id, if readable, still identifies the writer of this seq (seq_conflict).
  const id = v.is(MessageIdSchema, message.id) ? message.id : null;
  return refusedMessage(seq, id, refusal);
}

/**
 * Checks what keeps a message from being stored as sent, with paths inside the message: a body
 * nested deeper than any request may be (first: later walks recurse), the contract's schema,
 * then what JSON.parse lost on the way (`1e400`, a `__proto__` header).
 */
function checkContent(message: Record<string, unknown>): { ok: true; value: OutgoingMessage } | { ok: false; issues: ValidationIssue[] } {
  try {
    assertJsonDepth(message.body, MAX_JSON_DEPTH - ENVELOPE_DEPTH);
  } catch {
    return { ok: false, issues: [{ path: "body", message: `The body is nested deeper than ${MAX_JSON_DEPTH - ENVELOPE_DEPTH} levels` }] };
  }
  const checked = validate(OutgoingMessageSchema, message);
  if (!checked.ok) return { ok: false, issues: checked.error.issues as ValidationIssue[] };
  const lost = lostInParsing(message);
  return lost.length > 0 ? { ok: false, issues: lost } : { ok: true, value: checked.value };
}

/** Longest path or message of an issue kept in a refusal. */
const MAX_ISSUE_TEXT = 300;

function clip(text: string): string {
  return text.length > MAX_ISSUE_TEXT ? `${text.slice(0, MAX_ISSUE_TEXT)}…` : text;
}

function describeIssues(issues: readonly ValidationIssue[]): string {
  const first = issues[0]!;
  return `${first.message}${first.path ? ` at ${first.path}` : ""}`;
}
