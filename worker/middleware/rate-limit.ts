// Per-token backpressure for /v1, after authentication: each scoped token's subject has its own
// request and byte rates (its claims, or the defaults), enforced in this isolate's memory at
// the cost of a map lookup; the admin is limited per station only. When the worker has the
// TOKEN_RATE_LIMITER binding, it is asked too: a per-location ceiling shared by all isolates.
import type { MiddlewareHandler } from "hono";
import { ErrorCode } from "../../shared/errors";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";
import { retryAfterSeconds } from "../limits/rate-gate";
import { SubjectLimiter } from "../limits/subject-limiter";

const subjects = new SubjectLimiter();
/** The binding counts in windows of its `period`; a refusal can only say "after the window". */
const LIMITER_BINDING_RETRY_MS = 10_000;

export const limitTokenRate: MiddlewareHandler<AppBindings> = async (c, next) => {
  const principal = c.get("principal");
  if (principal.rates === null) return next();
  const waitMs = subjects.admit(principal.subject, principal.rates, declaredBodyBytes(c.req.raw), Date.now());
  if (waitMs > 0) throw rateLimited(waitMs);
  const binding = c.env.TOKEN_RATE_LIMITER;
  if (binding) {
    let allowed = true;
    try {
      allowed = (await binding.limit({ key: `subject:${principal.subject}` })).success;
    } catch (error) {
      // The in-isolate limit above still holds; a broken binding must not take the API down.
      console.warn("TOKEN_RATE_LIMITER failed", error);
    }
    if (!allowed) throw rateLimited(LIMITER_BINDING_RETRY_MS);
  }
  return next();
};

/** Bytes a request declares it sends. A chunked body declares none: it is still bounded per
 *  request (worker/http/read-json.ts) and per station (the Station counts what it stores). */
function declaredBodyBytes(request: Request): number {
  const declared = Number(request.headers.get("content-length") ?? 0);
  return Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
}

function rateLimited(waitMs: number): ApiError {
  const seconds = retryAfterSeconds(waitMs);
  return new ApiError(
    ErrorCode.RateLimited,
    `This token is over its rate: retry in ${seconds} s`,
    { scope: "token", retryAfterSeconds: seconds },
    { "retry-after": String(seconds) },
  );
}
