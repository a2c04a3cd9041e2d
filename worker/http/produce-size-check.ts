// Size refusals of a produce request that answer 413 rather than 422: too many messages in a
// batch, or a message's headers over their count or byte bounds. Runs on the parsed JSON
// before schema validation, so a huge batch is refused without validating every message.
// A sequenced batch gets only the count check: its messages' headers are ruled one by one.
import { ErrorCode } from "../../shared/errors";
import { MAX_BATCH_MESSAGES, MAX_HEADERS, MAX_HEADERS_BYTES } from "../../shared/limits";
import { headersBytes } from "../../shared/messages";
import { ApiError } from "./api-error";

/** The batch's messages as parsed, or null when `parsed` holds no array of them. */
function messagesOf(parsed: unknown): unknown[] | null {
  if (typeof parsed !== "object" || parsed === null) return null;
  const messages = (parsed as { messages?: unknown }).messages;
  return Array.isArray(messages) ? messages : null;
}

/** 413 for a batch of more than MAX_BATCH_MESSAGES. */
export function checkBatchCount(parsed: unknown): void {
  const messages = messagesOf(parsed);
  if (messages && messages.length > MAX_BATCH_MESSAGES) {
    throw new ApiError(ErrorCode.PayloadTooLarge, `A batch holds at most ${MAX_BATCH_MESSAGES} messages, got ${messages.length}`, {
      maxMessages: MAX_BATCH_MESSAGES,
      messages: messages.length,
    });
  }
}

/** 413 for the batch and for any message's headers over their count or byte bounds. */
export function checkProduceSizes(parsed: unknown): void {
  checkBatchCount(parsed);
  messagesOf(parsed)?.forEach((message, index) => {
    const headers = (message as { headers?: unknown } | null)?.headers;
    if (typeof headers !== "object" || headers === null || Array.isArray(headers)) return;
    const entries = Object.entries(headers);
    if (entries.length > MAX_HEADERS) {
      throw new ApiError(ErrorCode.PayloadTooLarge, `Message ${index} has ${entries.length} headers; at most ${MAX_HEADERS}`, {
        index,
        maxHeaders: MAX_HEADERS,
      });
    }
    if (entries.every(([, value]) => typeof value === "string")) {
      const bytes = headersBytes(headers as Record<string, string>);
      if (bytes > MAX_HEADERS_BYTES) {
        throw new ApiError(ErrorCode.PayloadTooLarge, `Message ${index} has ${bytes} bytes of headers; at most ${MAX_HEADERS_BYTES}`, {
          index,
          maxHeadersBytes: MAX_HEADERS_BYTES,
        });
      }
    }
  });
}
