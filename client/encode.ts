// Turns what the app passes to enqueue() into what the outbox keeps: the body as JSON text and
// the message checked against the wire contract (the worker's own OutgoingMessageSchema), so
// nothing malformed, and nothing too large for any station, is ever committed.
import * as v from "valibot";
import { MAX_MESSAGE_BYTES_LIMIT } from "../shared/limits";
import { OutgoingMessageSchema } from "../shared/messages";
import { utf8Length } from "../shared/utf8";
import { WaystationError } from "./errors";

export interface EnqueueOptions {
  headers?: Record<string, string>;
  key?: string;
  id?: string;
  delayMs?: number;
}

export interface EncodedAction {
  body: string;
  headers?: Record<string, string>;
  key?: string;
  id?: string;
  /** Groups and webhooks see the message this long after the station stores it (sent as is). */
  delayMs?: number;
  /** The station's schema version the body passed in the browser (stamped by schema-check.ts). */
  schemaName?: string;
  schemaVersion?: number;
  bytes: number;
}

/**
 * Encodes and checks one action. Throws a {@link WaystationError}: `invalid_request` (not JSON,
 * a non-finite number, bad headers/key/id) or `message_too_large` (a body no station can take:
 * it could never be sent, so it must never block the stream).
 */
export function encodeAction(body: unknown, options: EnqueueOptions = {}): EncodedAction {
  const json = toJson(body);
  const bodyBytes = utf8Length(json);
  if (bodyBytes > MAX_MESSAGE_BYTES_LIMIT) {
    throw new WaystationError("message_too_large", `The body is ${bodyBytes} bytes; a station takes at most ${MAX_MESSAGE_BYTES_LIMIT}`, 0, {
      local: true,
      bytes: bodyBytes,
      limit: MAX_MESSAGE_BYTES_LIMIT,
    });
  }
  const action: EncodedAction = { body: json, bytes: 0 };
  if (options.headers !== undefined) action.headers = { ...options.headers };
  if (options.key !== undefined) action.key = options.key;
  if (options.id !== undefined) action.id = options.id;
  if (options.delayMs !== undefined) action.delayMs = options.delayMs;
  // The worker's own schema for one message (the body's JSON was checked above).
  const checked = v.safeParse(OutgoingMessageSchema, { seq: 1, body, headers: action.headers, key: action.key, id: action.id, delayMs: action.delayMs });
  if (!checked.success) {
    const issue = checked.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".");
    throw invalid(`${issue.message}${path ? ` at ${path}` : ""}`);
  }
  action.bytes = utf8Length(messageFragment(action));
  return action;
}

/** JSON text of the body; refuses what JSON.stringify would silently change (NaN, ±Infinity → null). */
function toJson(body: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body, (key, value: unknown) => {
      if (typeof value === "number" && !Number.isFinite(value)) throw invalid(`The body holds ${value}${key ? ` at ${key}` : ""}, which JSON cannot carry`);
      return value;
    });
  } catch (error) {
    if (error instanceof WaystationError) throw error;
    throw invalid(`The body is not JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw invalid("The body is not JSON (undefined, a function or a symbol)");
  return json;
}

/** The message as sent, but its seq: `"body":…,"headers":…`. */
export function messageFragment(action: Omit<EncodedAction, "bytes">): string {
  let text = `"body":${action.body}`;
  if (action.headers !== undefined) text += `,"headers":${JSON.stringify(action.headers)}`;
  if (action.key !== undefined) text += `,"key":${JSON.stringify(action.key)}`;
  if (action.id !== undefined) text += `,"id":${JSON.stringify(action.id)}`;
  if (action.delayMs !== undefined) text += `,"delayMs":${action.delayMs}`;
  if (action.schemaVersion !== undefined) text += `,"schemaVersion":${action.schemaVersion},"schemaName":${JSON.stringify(action.schemaName)}`;
  return text;
}

/** The id an outbox entry is sent with: the app's, else the action id made at enqueue (none on version 1 entries). */
export function wireId(entry: { id?: string; actionId?: string }): string | undefined {
  return entry.id ?? entry.actionId;
}

/** The message of an outbox entry as sent, but its seq. */
export function entryFragment(entry: Omit<EncodedAction, "bytes"> & { actionId?: string }): string {
  const { body, headers, key, delayMs, schemaName, schemaVersion } = entry;
  return messageFragment({ body, headers, key, delayMs, id: wireId(entry), schemaName, schemaVersion });
}

export function entryBytes(entry: Omit<EncodedAction, "bytes"> & { actionId?: string }): number {
  return utf8Length(entryFragment(entry));
}

function invalid(message: string): WaystationError {
  return new WaystationError("invalid_request", message);
}
