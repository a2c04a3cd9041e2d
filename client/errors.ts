// The SDK's one error type: a code to branch on (the wire codes of shared/errors.ts, plus the
// few that only happen in the browser), the HTTP status if there was one, and the details.
import type { ErrorCode } from "../shared/errors";

/** Codes that never travel on the wire: they describe the browser's side. */
export const ClientErrorCode = {
  /** No response: offline, DNS, connection reset, timeout. Retried; nothing is lost. */
  NetworkError: "network_error",
  /** A response that does not fit the contract (not JSON, wrong shape, seqs that do not match). */
  BadResponse: "bad_response",
  /** IndexedDB failed for a reason other than quota. */
  StorageError: "storage_error",
  /** The client was closed. */
  Closed: "closed",
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Every code a {@link WaystationError} can carry. */
export type WaystationErrorCode = ErrorCode | ClientErrorCode;

/**
 * The error every SDK call rejects with, and the error in `rejected` events and dead letters.
 * Branch on `code`, never on `message`.
 *
 * @example
 * try { await todos.enqueue(todo) }
 * catch (e) { if (e instanceof WaystationError && e.code === "quota_exceeded") askToFreeSpace() }
 */
export class WaystationError extends Error {
  override readonly name = "WaystationError";
  constructor(
    readonly code: WaystationErrorCode,
    message: string,
    /** HTTP status, or 0 when there was no response. */
    readonly status = 0,
    /** The wire error's other fields (e.g. `expectedSeq`, `issues`, `index`). */
    readonly details: Record<string, unknown> = {},
    /** From `Retry-After`, when the server sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** An error object as the wire carries it: an error body or frame, a refusal, an unruled result. */
export interface WireErrorObject {
  code: string;
  message: string;
  [detail: string]: unknown;
}

/** An error as plain data (structured clone): how the outbox keeps it and tabs pass it on. */
export interface PlainError {
  code: string;
  message: string;
  /** HTTP status, or 0 when there was no response. */
  status: number;
  details?: Record<string, unknown>;
}

/**
 * The one conversion of a wire error object into a {@link WaystationError}: its code and message,
 * every other field as a detail. `status`: the HTTP status of the answer that carried it (0: none).
 */
export function errorFromWire({ code, message, ...details }: WireErrorObject, status = 0, retryAfterMs?: number): WaystationError {
  return new WaystationError(code as WaystationErrorCode, String(message), status, details, retryAfterMs);
}

/** A {@link PlainError} kept or posted earlier, typed again. */
export function errorFromPlain({ code, message, status, details }: PlainError): WaystationError {
  return new WaystationError(code as WaystationErrorCode, message, status, details ?? {});
}

/** Maps an IndexedDB failure to a typed error: quota apart, the rest is `storage_error`. */
export function storageError(error: unknown): WaystationError {
  if (error instanceof WaystationError) return error;
  const name = (error as { name?: string } | null)?.name;
  const message = (error as { message?: string } | null)?.message ?? String(error);
  if (name === "QuotaExceededError") return new WaystationError("quota_exceeded", `Browser storage is full: ${message}`);
  return new WaystationError(ClientErrorCode.StorageError, `IndexedDB: ${message}`);
}
