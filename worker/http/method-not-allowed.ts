// The answer for a request no route takes: 405 `method_not_allowed` (with `Allow`) when the
// path is a route's under another method, else 404 `not_found`. Derived from the app's own
// route table, so every route added later gets it without a line here.
import type { Context, Hono } from "hono";
import { ErrorCode } from "../../shared/errors";
import { jsonError } from "./error-response";

interface RoutePattern {
  method: string;
  regex: RegExp;
}

export function notFoundHandler(app: Hono<any>) {
  let patterns: RoutePattern[] | null = null;
  return (c: Context): Response => {
    // Routes are all registered before the first request; compile them once then.
    patterns ??= compileRoutes(app.routes);
    const path = c.req.path;
    const allowed = new Set<string>();
    for (const pattern of patterns) if (pattern.regex.test(path)) allowed.add(pattern.method);
    if (allowed.has("GET")) allowed.add("HEAD");
    if (allowed.size === 0) return jsonError({ code: ErrorCode.NotFound, message: "No such route" });
    const allow = [...allowed].sort().join(", ");
    return jsonError(
      { code: ErrorCode.MethodNotAllowed, message: `${c.req.method.slice(0, 32)} is not allowed here; use ${allow}`, allowed: [...allowed].sort() },
      { allow },
    );
  };
}

/** Route paths (`/v1/stations/:station/messages`) as regexes; middleware (`ALL`) is left out. */
function compileRoutes(routes: readonly { method: string; path: string }[]): RoutePattern[] {
  const patterns: RoutePattern[] = [];
  for (const route of routes) {
    if (route.method === "ALL") continue;
    patterns.push({ method: route.method.toUpperCase(), regex: pathRegex(route.path) });
  }
  return patterns;
}

function pathRegex(path: string): RegExp {
  const parts = path.split("/").map((segment) => {
    if (segment === "*") return ".*";
    if (segment.startsWith(":")) return "[^/]+";
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${parts.join("/")}$`);
}
