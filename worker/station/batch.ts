// A produce batch as the Worker hands it to a Station: validated, bodies already encoded,
// sizes counted. Encoding at the edge keeps JSON work out of the single-threaded object.
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { ProduceRequest } from "../../shared/messages";
import { utf8Length } from "../../shared/utf8";

export interface PreparedMessage {
  seq: number | null;
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
}

export interface PreparedBatch {
  producer: string | null;
  messages: PreparedMessage[];
}

/** Applies the batch-wide producer rules and encodes each message. */
export function prepareBatch(request: ProduceRequest): Result<PreparedBatch> {
  const sequenced = request.messages.filter((m) => m.seq !== undefined).length;
  if (sequenced > 0 && request.producer === undefined) {
    return fail(ErrorCode.InvalidRequest, "Messages with seq need a producer", { issues: [{ path: "producer", message: "Required with seq" }] });
  }
  if (sequenced > 0 && sequenced < request.messages.length) {
    return fail(ErrorCode.InvalidRequest, "Either every message of a batch has a seq or none has", {
      issues: [{ path: "messages", message: "Mixed sequenced and unsequenced messages" }],
    });
  }
  const messages = request.messages.map((message): PreparedMessage => {
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
    };
  });
  return ok({ producer: request.producer ?? null, messages });
}
