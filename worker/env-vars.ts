// The Worker's secrets, vars and plain bindings (see wrangler.toml): everything in Env but the
// Durable Object namespaces, so the Durable Objects and their helpers can name it without
// importing the classes that Env names.
export interface EnvVars {
  /** The admin bearer token. Without it every /v1 route answers 503 `not_configured`. */
  ADMIN_TOKEN?: string;
  /** `1` lets webhook endpoints be http:// and loopback (local development and tests only). */
  WEBHOOK_ALLOW_PRIVATE?: string;
  /** Seals webhook signing secrets at rest (AES-256-GCM), 32+ characters. Without it webhook PUT
   *  answers 503 `not_configured` and nothing is delivered (never unsigned). docs/webhooks.md. */
  WEBHOOK_SECRET_KEY?: string;
  /** The key WEBHOOK_SECRET_KEY replaced, still opened (and re-sealed under the new one) during a key rotation. */
  WEBHOOK_SECRET_KEY_PREVIOUS?: string;
  /** `0` stops resolving webhook host names before PUT and each delivery (only where fetch() cannot
   *  reach private networks anyway, i.e. on Cloudflare's edge). Default: resolved. */
  WEBHOOK_RESOLVE_DNS?: string;
  /** Secret that signs scoped tokens (JWT, HS256), 32+ characters. Without it only the admin
   *  token is accepted and `POST /v1/tokens` answers 503 `not_configured` (docs/security.md). */
  TOKEN_SIGNING_KEY?: string;
  /** Optional: when set, every scoped token must carry this `aud` (401 `wrong_audience` otherwise),
   *  and `POST /v1/tokens` puts it in the tokens it mints. */
  TOKEN_AUDIENCE?: string;
  /** Optional: when set, every scoped token must carry this `iss` (401 `wrong_issuer` otherwise),
   *  and `POST /v1/tokens` puts it in the tokens it mints. */
  TOKEN_ISSUER?: string;
  /** Browser origins allowed to call the API (CORS), comma-separated, exact: `https://app.example`. */
  ALLOWED_ORIGINS?: string;
  /** Ceiling (and default) of every station's storage quota, in bytes; 1 GiB when unset. */
  STATION_MAX_STORAGE_BYTES?: string;
  /** R2 bucket for stations with `retention.archive: true`: trimmed messages go there as
   *  segments before they leave the object (docs/archive.md). Optional: without it such a
   *  station config is refused with 409 `archive_unavailable`. */
  ARCHIVE?: R2Bucket;
  /** Optional Workers rate-limiting binding: a per-location ceiling per token subject, shared
   *  by every isolate (the in-isolate buckets of worker/limits are exact but per isolate). */
  TOKEN_RATE_LIMITER?: RateLimit;
}
