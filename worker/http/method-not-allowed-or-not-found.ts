// The answer for a request no route takes: 405 `method_not_allowed` (with `Allow`) when a route
// takes the path under another method, else 404 `not_found`. It asks the app's own router, so a
// path counts as known exactly when routing would take it, and every route added later gets it.
import type { Context, Hono } from "hono";
import { ErrorCode } from "../../shared/errors";
import { jsonError } from "./error-response";

/** The method middleware (`use`) is registered under: it takes every path, so it says nothing of routes. */
const MIDDLEWARE_METHOD = "ALL";

export function methodNotAllowedOrNotFound(app: Hono<any>) {
  let methods: string[] | null = null;
  return (c: Context): Response => {
    // Routes are all registered before the first request; list their methods once then.
    methods ??= routeMethods(app);
    const path = c.req.path;
    const allowed = methods.filter((method) => routeTakes(app, method, path));
    if (allowed.length === 0) return jsonError({ code: ErrorCode.NotFound, message: "No such route" });
    // Hono answers HEAD with the GET route (without the body).
    if (allowed.includes("GET") && !allowed.includes("HEAD")) allowed.push("HEAD");
    allowed.sort();
    const allow = allowed.join(", ");
    return jsonError(
      { code: ErrorCode.MethodNotAllowed, message: `${c.req.method.slice(0, 32)} is not allowed here; use ${allow}`, allowed },
      { allow },
    );
  };
}

function routeMethods(app: Hono<any>): string[] {
  return [...new Set(app.routes.map((route) => route.method.toUpperCase()))].filter((method) => method !== MIDDLEWARE_METHOD);
}

/** Whether a route (not only middleware) of `method` takes `path`. */
function routeTakes(app: Hono<any>, method: string, path: string): boolean {
  const [matches] = app.router.match(method, path);
  return matches.some(([[, route]]) => route.method !== MIDDLEWARE_METHOD);
}
