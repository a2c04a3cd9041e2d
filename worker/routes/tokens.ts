// `POST /v1/tokens` (admin only): mints a scoped token (its grants may name schemas and groups;
// `iss`/`aud` are set from TOKEN_ISSUER/TOKEN_AUDIENCE). An app's backend may instead mint its
// own with the same secret and claims (docs/security.md); this route is the shortcut.
import { Hono } from "hono";
import { ErrorCode } from "../../shared/errors";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { MintTokenRequestSchema } from "../../shared/tokens";
import { requireAdmin } from "../auth/require";
import { isSigningKeyUsable, MIN_SIGNING_KEY_LENGTH, mintToken, tokenPartiesOf } from "../auth/tokens";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";
import { readJson } from "../http/read-json";

export const tokens = new Hono<AppBindings>().post("/", async (c) => {
  requireAdmin(c);
  const secret = c.env.TOKEN_SIGNING_KEY;
  if (!isSigningKeyUsable(secret)) {
    throw new ApiError(ErrorCode.NotConfigured, `Minting needs the TOKEN_SIGNING_KEY secret (${MIN_SIGNING_KEY_LENGTH}+ characters)`);
  }
  const request = await readJson(c, MintTokenRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
  const minted = await mintToken(request, secret, Date.now(), tokenPartiesOf(c.env));
  // Never the token itself: who got what, and until when, is enough to audit.
  console.log(JSON.stringify({ event: "token_minted", sub: minted.claims.sub, jti: minted.claims.jti, exp: minted.claims.exp }));
  return c.json(minted, 201);
});
