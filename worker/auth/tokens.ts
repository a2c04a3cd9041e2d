// Scoped tokens: JWTs signed with HMAC-SHA256 under the TOKEN_SIGNING_KEY secret. Verifying
// accepts HS256 only (never `none`, never an asymmetric algorithm), needs `exp` and `sub`, checks
// `aud` and `iss` when the worker names them (TOKEN_AUDIENCE, TOKEN_ISSUER), bounds the lifetime,
// and checks the claims against shared/tokens.ts; every refusal is a Result.
import { SignJWT, jwtVerify } from "jose";
import { ErrorCode, type Result, fail, ok } from "../../shared/errors";
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_LENGTH, MAX_TOKEN_TTL_SECONDS } from "../../shared/limits";
import { type MintTokenRequest, type MintTokenResponse, TOKEN_ALGORITHM, type TokenClaims, TokenClaimsSchema } from "../../shared/tokens";
import { validate } from "../../shared/validate";

/** Shortest signing key accepted: HS256 wants at least 256 bits of secret. */
export const MIN_SIGNING_KEY_LENGTH = 32;
/** Clock skew allowed between the minting backend and the worker. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** Three base64url parts: anything else is not worth handing to the JWT library. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Why a token was refused: `reason` in the 401's details, for clients and logs alike. */
export const TokenRefusal = {
  Disabled: "scoped_tokens_disabled",
  Malformed: "malformed",
  Algorithm: "algorithm_not_allowed",
  Signature: "bad_signature",
  Expired: "token_expired",
  NotYetValid: "token_not_yet_valid",
  Lifetime: "lifetime_too_long",
  Claims: "invalid_claims",
  Audience: "wrong_audience",
  Issuer: "wrong_issuer",
} as const;

/** What this worker expects of a token's `aud` and `iss` (unset: not checked) and puts in minted ones. */
export interface TokenParties {
  audience?: string;
  issuer?: string;
}

/** TOKEN_AUDIENCE and TOKEN_ISSUER; an empty var counts as unset. */
export function tokenPartiesOf(env: { TOKEN_AUDIENCE?: string; TOKEN_ISSUER?: string }): TokenParties {
  return {
    ...(env.TOKEN_AUDIENCE ? { audience: env.TOKEN_AUDIENCE } : {}),
    ...(env.TOKEN_ISSUER ? { issuer: env.TOKEN_ISSUER } : {}),
  };
}

export function isSigningKeyUsable(key: string | undefined): key is string {
  return typeof key === "string" && key.length >= MIN_SIGNING_KEY_LENGTH;
}

/** True when the bearer credential has the shape of a JWT (so it is not a mistyped admin token). */
export function looksLikeJwt(token: string): boolean {
  return token.length <= MAX_TOKEN_LENGTH && COMPACT_JWS.test(token);
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key, imported once per isolate and secret. */
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.clear(); // a rotated secret replaces the old one
    keys.set(secret, key);
  }
  return key;
}

export async function verifyToken(token: string, secret: string | undefined, nowMs: number, parties: TokenParties = {}): Promise<Result<TokenClaims>> {
  if (!isSigningKeyUsable(secret)) {
    return refuse(TokenRefusal.Disabled, "This worker accepts only the admin token: scoped tokens need the TOKEN_SIGNING_KEY secret");
  }
  if (!looksLikeJwt(token)) return refuse(TokenRefusal.Malformed, "The token is not a compact JWT");
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, await hmacKey(secret), {
      algorithms: [TOKEN_ALGORITHM],
      requiredClaims: ["exp", "sub"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowMs),
      // A token minted for another service (or by another issuer) sharing the key is refused.
      ...(parties.audience !== undefined ? { audience: parties.audience } : {}),
      ...(parties.issuer !== undefined ? { issuer: parties.issuer } : {}),
    }));
  } catch (error) {
    return refusalOf(error);
  }
  const claims = validate(TokenClaimsSchema, payload);
  if (!claims.ok) {
    const { code: _code, message, ...details } = claims.error;
    return refuse(TokenRefusal.Claims, `The token's claims do not fit: ${message}`, details);
  }
  if (claims.value.exp > nowMs / 1000 + MAX_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    return refuse(TokenRefusal.Lifetime, `A token may live at most ${MAX_TOKEN_TTL_SECONDS} seconds: mint shorter ones`);
  }
  return claims;
}

/** Mints a token for `request`; the caller checked the admin right and the secret. */
export async function mintToken(request: MintTokenRequest, secret: string, nowMs: number, parties: TokenParties = {}): Promise<MintTokenResponse> {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + (request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  const claims: TokenClaims = {
    sub: request.sub,
    iat,
    exp,
    jti: crypto.randomUUID(),
    ...(parties.issuer !== undefined ? { iss: parties.issuer } : {}),
    ...(parties.audience !== undefined ? { aud: parties.audience } : {}),
    grants: request.grants,
    ...(request.limits ? { limits: request.limits } : {}),
  };
  const jwt = new SignJWT({ grants: claims.grants, ...(claims.limits ? { limits: claims.limits } : {}) })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(claims.jti!);
  if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  const token = await jwt.sign(await hmacKey(secret));
  return { token, claims, expiresAt: exp * 1000 };
}

function refusalOf(error: unknown): Result<never> {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return refuse(TokenRefusal.Expired, "The token has expired: get a new one");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return refuse(TokenRefusal.Algorithm, `Only ${TOKEN_ALGORITHM} tokens are accepted`);
    case "ERR_JOSE_NOT_SUPPORTED":
      return refuse(TokenRefusal.Malformed, "The token asks for a JWS extension (crit) this worker does not support");
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return refuse(TokenRefusal.Signature, "The token's signature does not verify");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (error as { claim?: unknown }).claim;
      if (claim === "nbf") return refuse(TokenRefusal.NotYetValid, "The token is not valid yet (nbf)");
      if (claim === "aud") return refuse(TokenRefusal.Audience, "The token was not issued for this service (aud)");
      if (claim === "iss") return refuse(TokenRefusal.Issuer, "The token's issuer is not the one this service trusts (iss)");
      return refuse(TokenRefusal.Claims, `The token's ${typeof claim === "string" ? claim : "claims"} claim is missing or invalid`);
    }
    default:
      return refuse(TokenRefusal.Malformed, "The token is not a valid JWT");
  }
}

function refuse(reason: string, message: string, details: Record<string, unknown> = {}): Result<never> {
  return fail(ErrorCode.Unauthorized, message, { ...details, reason });
}
