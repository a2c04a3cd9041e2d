// Bearer authentication for /v1. Fails closed: a worker deployed without ADMIN_TOKEN refuses
// every request with 503 `not_configured` rather than serving anyone.
import type { MiddlewareHandler } from "hono";
import { ErrorCode } from "../../shared/errors";
import { ADMIN } from "../auth/principal";
import { secretsEqual } from "../auth/constant-time";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";

/** Shortest admin token accepted: a guessable secret is no secret. */
const MIN_ADMIN_TOKEN_LENGTH = 16;

export const authenticate: MiddlewareHandler<AppBindings> = async (c, next) => {
  const adminToken = c.env.ADMIN_TOKEN;
  if (!adminToken || adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ApiError(ErrorCode.NotConfigured, "This worker has no ADMIN_TOKEN secret (16+ characters) and refuses to serve");
  }
  const token = bearerToken(c.req.header("authorization"));
  if (token === null) {
    throw new ApiError(ErrorCode.Unauthorized, "Send Authorization: Bearer <token>", {}, { "www-authenticate": "Bearer" });
  }
  if (secretsEqual(token, adminToken)) {
    c.set("principal", ADMIN);
    return next();
  }
  throw new ApiError(ErrorCode.Unauthorized, "Unknown token", {}, { "www-authenticate": 'Bearer error="invalid_token"' });
};

function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
