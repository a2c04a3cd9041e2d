// Turns a parsed produce request into the batch a Station rules on. Without seq the batch is
// valid whole or refused whole (413/422, nothing stored). With seq only the envelope is checked
// whole (producer, seqs, count); each message's content is checked on its own, and one that
// fails travels on as refused, so the station rules its seq (consuming it) with the rest.
// The request's `partition` and each message's key travel beside the batch, for routing.
import * as v from "valibot";
import { ErrorCode } from "../../shared/errors";
import { MAX_JSON_DEPTH, MAX_KEY_LENGTH } from "../../shared/limits";
import { lostInParsing, MessageIdSchema, type OutgoingMessage, OutgoingMessageSchema, ProduceRequestSchema, type Refusal, SequencedEnvelopeSchema } from "../../shared/messages";
import { type ValidationIssue, validate } from "../../shared/validate";
import { encodeMessage, type PreparedBatch, type PreparedMessage, refusedMessage } from "../station/log";
import { ApiError } from "./api-error";
import { assertJsonDepth } from "./json-depth";
import { checkBatchCount, checkProduceSizes } from "./produce-size-check";
import { unwrapValidation } from "./read-json";

/** Levels above a body in a request: the request, its `messages` array, the message. */
const ENVELOPE_DEPTH = 3;

/** A produce request ready to route: the batch, and what decides where its messages go. */
export interface ProduceRequestParts {
  batch: PreparedBatch;
  /** The request's `partition`: the whole batch goes there. Null: each message by its key. */
  partition: number | null;
  /** Each message's key, in batch order; a message refused at the edge keeps its key when it is
   *  readable, so its seq is ruled in the partition its key (and its stream) belongs to. */
  keys: Array<string | null>;
}

/** `parsed`: the request body as JSON.parse gave it, nesting not yet bounded. */
export function parseProduceRequest(parsed: unknown): ProduceRequestParts {
  return carriesSeqs(parsed) ? parseSequenced(parsed) : parseUnsequenced(parsed);
}

function carriesSeqs(parsed: unknown): boolean {
  if (typeof parsed !== "object" || parsed === null) return false;
  const messages = (parsed as { messages?: unknown }).messages;
  return Array.isArray(messages) && messages.some((message) => typeof message === "object" && message !== null && (message as { seq?: unknown }).seq !== undefined);
}

function parseUnsequenced(parsed: unknown): ProduceRequestParts {
  assertJsonDepth(parsed);
  checkProduceSizes(parsed);
  const request = unwrapValidation(ProduceRequestSchema, parsed);
  const raw = (parsed as { messages: unknown[] }).messages;
  const issues = raw.flatMap((message, index) => lostInParsing(message).map((issue) => ({ ...issue, path: `messages.${index}.${issue.path}` })));
  if (issues.length > 0) throw new ApiError(ErrorCode.InvalidRequest, describeIssues(issues), { issues });
  const messages = request.messages.map(encodeMessage);
  return { batch: { producer: request.producer ?? null, messages }, partition: request.partition ?? null, keys: messages.map((message) => message.key) };
}

function parseSequenced(parsed: unknown): ProduceRequestParts {
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
  const messages = raw.messages.map((message, index) => prepareSequenced(message as Record<string, unknown>, envelope.messages[index]!.seq));
  return {
    batch: { producer: envelope.producer, messages },
    partition: envelope.partition ?? null,
    keys: raw.messages.map((message, index) => messages[index]!.key ?? readableKey(message)),
  };
}

/** The key of a message refused at the edge, if it is one a valid message could carry. */
function readableKey(message: unknown): string | null {
  const key = (message as { key?: unknown }).key;
  return typeof key === "string" && key.length <= MAX_KEY_LENGTH ? key : null;
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
