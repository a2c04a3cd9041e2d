// The one exception type of the HTTP edge: a WireError with its status, thrown by routes and
// middleware and turned into `{"error": {...}}` once, in `app.onError`.
import { ERROR_STATUS, type ErrorCode, type WireError, wireError } from "../../shared/errors";

export class ApiError extends Error {
  readonly wire: WireError;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.wire = wireError(code, message, details);
    this.headers = headers;
  }

  static from(error: WireError, headers: Record<string, string> = {}): ApiError {
    const { code, message, ...details } = error;
    return new ApiError(code, message, details, headers);
  }

  get status(): number {
    return ERROR_STATUS[this.wire.code];
  }
}

/** Unwraps a Result from a station or the catalog, throwing its error at the edge. */
export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: WireError }): T {
  if (!result.ok) throw ApiError.from(result.error);
  return result.value;
}
