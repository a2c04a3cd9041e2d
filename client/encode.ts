// Turns what the app passes to enqueue() into what the outbox keeps: the body as JSON text and
// the message checked against the wire contract, so nothing the server would refuse as malformed
// is ever committed (it would only end as a dead letter).
import * as v from "valibot";
import { MAX_MESSAGE_BYTES_LIMIT } from "../shared/limits";
import { OutgoingMessageSchema } from "../shared/messages";
import { utf8Length } from "../shared/utf8";
import { WaystationError } from "./errors";

export interface EnqueueOptions {
  headers?: Record<string, string>;
  key?: string;
  id?: string;
}

export interface EncodedAction {
  body: string;
  headers?: Record<string, string>;
  key?: string;
  id?: string;
  bytes: number;
}

export function encodeAction(body: unknown, options: EnqueueOptions = {}): EncodedAction {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw invalid(`The body is not JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw invalid("The body is not JSON (undefined, a function or a symbol)");
  const bodyBytes = utf8Length(json);
  if (bodyBytes > MAX_MESSAGE_BYTES_LIMIT) throw invalid(`The body is ${bodyBytes} bytes; a station takes at most ${MAX_MESSAGE_BYTES_LIMIT}`);
  const action: EncodedAction = { body: json, bytes: 0 };
  if (options.headers !== undefined) action.headers = { ...options.headers };
  if (options.key !== undefined) action.key = options.key;
  if (options.id !== undefined) action.id = options.id;
  const checked = v.safeParse(OutgoingMessageSchema, { seq: 1, body: null, headers: action.headers, key: action.key, id: action.id });
  if (!checked.success) {
    const issue = checked.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".");
    throw invalid(`${issue.message}${path ? ` at ${path}` : ""}`);
  }
  action.bytes = utf8Length(messageFragment(action));
  return action;
}

/** The message as sent, but its seq: `"body":…,"headers":…`. */
export function messageFragment(action: Omit<EncodedAction, "bytes">): string {
  let text = `"body":${action.body}`;
  if (action.headers !== undefined) text += `,"headers":${JSON.stringify(action.headers)}`;
  if (action.key !== undefined) text += `,"key":${JSON.stringify(action.key)}`;
  if (action.id !== undefined) text += `,"id":${JSON.stringify(action.id)}`;
  return text;
}

function invalid(message: string): WaystationError {
  return new WaystationError("invalid_request", message);
}
