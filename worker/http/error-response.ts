// Maps anything thrown while serving a request to the error JSON. Unknown errors are bugs:
// logged with their stack, answered as 500 `internal` without internals.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ERROR_STATUS, ErrorCode, type ErrorBody, type WireError } from "../../shared/errors";
import { ApiError } from "./api-error";

export function errorResponse(error: unknown, c: Context): Response {
  if (error instanceof ApiError) return jsonError(error.wire, error.headers);
  if (error instanceof HTTPException) {
    const code = codeForStatus(error.status);
    return jsonError({ code, message: error.message || "Request refused" });
  }
  const transient = durableObjectRefusal(error);
  if (transient) {
    console.warn(`${c.req.method} ${new URL(c.req.url).pathname}: ${transient.code}`, String(error));
    return jsonError(transient);
  }
  console.error(`${c.req.method} ${new URL(c.req.url).pathname} failed`, error);
  return jsonError({ code: ErrorCode.Internal, message: "Internal error" });
}

/** A Durable Object that is overloaded (too many requests queued) or was briefly unreachable
 *  (reset, moved) marks its error; those are backpressure, not bugs. */
function durableObjectRefusal(error: unknown): WireError | null {
  if (typeof error !== "object" || error === null) return null;
  const flags = error as { overloaded?: unknown; retryable?: unknown };
  if (flags.overloaded === true) {
    return { code: ErrorCode.RateLimited, message: "The station is overloaded: retry shortly", scope: "station", retryAfterSeconds: 1 };
  }
  if (flags.retryable === true) {
    return { code: ErrorCode.Unavailable, message: "The station was briefly unreachable: retry shortly", retryAfterSeconds: 1 };
  }
  return null;
}

export function jsonError(wire: WireError, headers: Record<string, string> = {}): Response {
  const body: ErrorBody = { error: wire };
  // A refusal that says when to come back (429, 503) says it in the header clients honour, too.
  const retryAfter = wire.retryAfterSeconds;
  if (typeof retryAfter === "number" && retryAfter > 0 && !("retry-after" in headers)) {
    headers = { ...headers, "retry-after": String(Math.ceil(retryAfter)) };
  }
  return new Response(JSON.stringify(body), {
    status: ERROR_STATUS[wire.code],
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function codeForStatus(status: number) {
  switch (status) {
    case 400: return ErrorCode.InvalidRequest;
    case 401: return ErrorCode.Unauthorized;
    case 403: return ErrorCode.Forbidden;
    case 404: return ErrorCode.NotFound;
    case 413: return ErrorCode.PayloadTooLarge;
    case 415: return ErrorCode.UnsupportedMediaType;
    case 429: return ErrorCode.RateLimited;
    default: return ErrorCode.Internal;
  }
}
