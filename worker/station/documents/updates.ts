// The updates of a doc station: a produce batch is checked to hold only yjs updates (binary
// bodies that decode; a sequenced message that holds none is ruled refused on its own), and
// stored bodies are read back as update bytes. A body that got into the log before the
// station became a doc (a kind change) is skipped, never merged. A doc update takes no
// `delayMs`: doc sockets and doc reads see every update at once, so a delay could not hold.
import * as Y from "yjs";
import { decodeBinaryBody } from "../../../shared/binary";
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import type { PreparedBatch, PreparedMessage } from "../log/batch";

/** Refuses the batch unless every body is `{"$binary": …}` holding a yjs (v1) update, none delayed. */
export function checkDocBatch(batch: PreparedBatch): Result<void> {
  for (let index = 0; index < batch.messages.length; index++) {
    const message = batch.messages[index]!;
    const problem = docUpdateProblem(message.body);
    if (problem !== null) return fail(ErrorCode.InvalidDocUpdate, `Message ${index}: ${problem}`, { index });
    const delay = docDelayProblem(message);
    if (delay !== null) return fail(ErrorCode.InvalidRequest, `Message ${index}: ${delay}`, { index, delayMs: message.delayMs });
  }
  return ok(undefined);
}

/** Why a message cannot be a delayed doc update, or null when it has no delay. */
export function docDelayProblem(message: PreparedMessage): string | null {
  if (message.delayMs <= 0) return null;
  return "a doc station takes no delayMs: doc sockets and doc reads see every update at once";
}

/** Why a body (JSON text) is no doc update, or null when it is one. A property of the body alone. */
export function docUpdateProblem(body: string): string | null {
  const update = decodeBodyText(body);
  if (update === null) return 'a doc station takes yjs updates as {"$binary": "<base64>"}';
  if (!isYjsUpdate(update)) return "the body is not a yjs update";
  return null;
}

/** The update bytes of a stored body (JSON text), or null when it holds none. */
export function decodeBodyText(body: string): Uint8Array | null {
  // Cheap test first: the log of a doc station is read often, bodies are parsed only if binary.
  if (!body.startsWith('{"$binary":')) return null;
  try {
    return decodeBinaryBody(JSON.parse(body));
  } catch {
    return null;
  }
}

/** A full decode: a truncated or garbled update would break every later merge of the document. */
export function isYjsUpdate(update: Uint8Array): boolean {
  try {
    Y.decodeUpdate(update);
    return true;
  } catch {
    return false;
  }
}

/** Reads bodies of `rows` as updates, skipping the ones that hold none. */
export function updatesOf(rows: Iterable<{ body: string }>): Uint8Array[] {
  const updates: Uint8Array[] = [];
  for (const row of rows) {
    const update = decodeBodyText(row.body);
    if (update !== null) updates.push(update);
  }
  return updates;
}
