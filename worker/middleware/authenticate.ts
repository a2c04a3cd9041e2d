// Bearer authentication for /v1: the admin token (compared in constant time) or a scoped token
// (a JWT, worker/auth/tokens.ts) becomes the request's Principal. Fails closed: a worker without
// ADMIN_TOKEN refuses everything with 503 `not_configured`; one without TOKEN_SIGNING_KEY
// refuses every JWT (401) and still serves the admin.
import type { MiddlewareHandler } from "hono";
import { ErrorCode } from "../../shared/errors";
import { tokenFromProtocols } from "../../shared/websocket-auth";
import { ADMIN, scopedPrincipal } from "../auth/principal";
import { secretsEqual } from "../auth/constant-time";
import { looksLikeJwt, tokenPartiesOf, verifyToken } from "../auth/tokens";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";

/** Shortest admin token accepted: a guessable secret is no secret. */
const MIN_ADMIN_TOKEN_LENGTH = 16;

export const authenticate: MiddlewareHandler<AppBindings> = async (c, next) => {
  const adminToken = c.env.ADMIN_TOKEN;
  if (!adminToken || adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ApiError(ErrorCode.NotConfigured, "This worker has no ADMIN_TOKEN secret (16+ characters) and refuses to serve");
  }
  // Browsers cannot set headers on a WebSocket: an upgrade may carry the token as a subprotocol.
  const token = bearerToken(c.req.header("authorization")) ?? (c.req.header("upgrade") ? tokenFromProtocols(c.req.header("sec-websocket-protocol")) : null);
  if (token === null) {
    throw new ApiError(ErrorCode.Unauthorized, "Send Authorization: Bearer <token>", { reason: "missing" }, { "www-authenticate": "Bearer" });
  }
  if (secretsEqual(token, adminToken)) {
    c.set("principal", ADMIN);
    return next();
  }
  if (!looksLikeJwt(token)) {
    throw new ApiError(ErrorCode.Unauthorized, "Unknown token", { reason: "unknown_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
  }
  const verified = await verifyToken(token, c.env.TOKEN_SIGNING_KEY, Date.now(), tokenPartiesOf(c.env));
  if (!verified.ok) throw ApiError.from(verified.error, { "www-authenticate": 'Bearer error="invalid_token"' });
  c.set("principal", scopedPrincipal(verified.value));
  return next();
};

function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
