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
  console.error(`${c.req.method} ${new URL(c.req.url).pathname} failed`, error);
  return jsonError({ code: ErrorCode.Internal, message: "Internal error" });
}

export function jsonError(wire: WireError, headers: Record<string, string> = {}): Response {
  const body: ErrorBody = { error: wire };
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
