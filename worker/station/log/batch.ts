// A produce batch as the Worker hands it to a Station: validated, bodies already encoded,
// sizes counted. Encoding at the edge keeps JSON work out of the single-threaded object.
import type { OutgoingMessage, Refusal } from "../../../shared/messages";
import { utf8Length } from "../../../shared/utf8";

export interface PreparedMessage {
  seq: number | null;
  /** The message's `id`: a dedup id without seq, the action's id with one (seq_conflict). */
  id: string | null;
  key: string | null;
  /** JSON text of the headers, or null when there are none. */
  headers: string | null;
  /** JSON text of the body. */
  body: string;
  /** UTF-8 bytes of `body`: what `maxMessageBytes` bounds. */
  bodyBytes: number;
  /** Bytes the message takes in the log: body, headers and key. */
  bytes: number;
  /** Groups and webhooks see it this long after it is stored (0: at once). */
  delayMs: number;
  /** The schema version the producer checked it against (`schemaVersion`, `schemaName`), or null. */
  schemaStamp: { name: string | null; version: number } | null;
  /**
   * Set when the edge found that this sequenced message breaks the per-message contract: the
   * station rules its seq refused with this (unless the seq was ruled before). Its content is
   * then empty: nothing of it is ever stored.
   */
  refused: Refusal | null;
}

export interface PreparedBatch {
  producer: string | null;
  messages: PreparedMessage[];
}

/** Encodes one message that met the contract. */
export function encodeMessage(message: OutgoingMessage): PreparedMessage {
  const body = JSON.stringify(message.body);
  const headers = message.headers && Object.keys(message.headers).length > 0 ? JSON.stringify(message.headers) : null;
  const key = message.key ?? null;
  const bodyBytes = utf8Length(body);
  return {
    seq: message.seq ?? null,
    id: message.id ?? null,
    key,
    headers,
    body,
    bodyBytes,
    bytes: bodyBytes + (headers ? utf8Length(headers) : 0) + (key ? utf8Length(key) : 0),
    delayMs: message.delayMs ?? 0,
    schemaStamp: message.schemaVersion === undefined ? null : { name: message.schemaName ?? null, version: message.schemaVersion },
    refused: null,
  };
}

/** A sequenced message the edge refused: only its seq, its id (if readable) and the refusal travel on. */
export function refusedMessage(seq: number, id: string | null, refusal: Refusal): PreparedMessage {
  return { seq, id, key: null, headers: null, body: "null", bodyBytes: 0, bytes: 0, delayMs: 0, schemaStamp: null, refused: refusal };
}

/** True when the batch's messages carry seqs (the edge lets no batch mix both). */
export function isSequenced(batch: PreparedBatch): batch is PreparedBatch & { producer: string } {
  return batch.producer !== null && batch.messages.length > 0 && batch.messages[0]!.seq !== null;
}
