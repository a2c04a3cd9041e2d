// CORS for browser clients, from the exact origins in ALLOWED_ORIGINS (comma-separated). An
// allowed origin gets its preflight answered (204) and its responses marked readable; any other
// origin, and every request without one, gets no CORS header at all. Tokens travel in the
// Authorization header, never in cookies, so credentials mode is never allowed.
import type { MiddlewareHandler } from "hono";
import { ErrorCode } from "../../shared/errors";
import { PROTOCOL_HEADER } from "../../shared/version";
import type { AppBindings } from "../env";
import { jsonError } from "../http/error-response";
import { setHeaders } from "../http/set-headers";

const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS = `authorization, content-type, ${PROTOCOL_HEADER}`;
/** Chromium caps a preflight's cache at 2 hours; Firefox at 24. */
const PREFLIGHT_MAX_AGE_SECONDS = 7200;
/** What a browser script may read of a response beyond the safelisted headers. */
const EXPOSED_HEADERS = `retry-after, ${PROTOCOL_HEADER}, www-authenticate`;

let parsedFrom: string | undefined;
let parsedOrigins = new Set<string>();

/** The configured origins, normalised (`https://App.example/` → `https://app.example`). */
export function allowedOrigins(config: string | undefined): ReadonlySet<string> {
  if (config !== parsedFrom) {
    parsedFrom = config;
    parsedOrigins = new Set();
    for (const entry of (config ?? "").split(",")) {
      const origin = normaliseOrigin(entry.trim());
      if (origin) parsedOrigins.add(origin);
      else if (entry.trim()) console.warn(`ALLOWED_ORIGINS: ignoring ${JSON.stringify(entry.trim())}: not an http(s) origin`);
    }
  }
  return parsedOrigins;
}

function normaliseOrigin(entry: string): string | null {
  if (!/^https?:\/\//i.test(entry)) return null;
  try {
    const url = new URL(entry);
    if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) return null;
    return url.origin;
  } catch {
    return null;
  }
}

export const cors: MiddlewareHandler<AppBindings> = async (c, next) => {
  const origin = c.req.header("origin");
  if (origin === undefined) return next();
  const allowed = allowedOrigins(c.env.ALLOWED_ORIGINS).has(origin);
  const isPreflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
  if (isPreflight) {
    if (!allowed) {
      return jsonError({ code: ErrorCode.Forbidden, message: "This origin may not call the API from a browser", reason: "origin_not_allowed" }, { vary: "Origin" });
    }
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      },
    });
  }
  await next();
  if (c.res.status === 101) return; // a WebSocket upgrade: no CORS, and its headers are fixed
  setHeaders(c, allowed ? { "access-control-allow-origin": origin, "access-control-expose-headers": EXPOSED_HEADERS } : {}, { vary: "Origin" });
};
