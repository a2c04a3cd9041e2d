// Checks the caller's right to an action on a station; routes call it before touching storage.
import type { Context } from "hono";
import type { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";

export function requireAccess(c: Context<AppBindings>, action: Action, station: string): void {
  const principal = c.get("principal");
  if (!principal.can(action, station)) {
    throw new ApiError(ErrorCode.Forbidden, `This token may not ${action} on station ${station}`, { action, station });
  }
}

/** For routes that act across stations (schemas): the admin, or a grant of `action` on `*`. */
export function requireEverywhere(c: Context<AppBindings>, action: Action): void {
  if (!c.get("principal").canEverywhere(action)) {
    throw new ApiError(ErrorCode.Forbidden, `This route needs ${action} on every station: the admin token, or a grant on "*"`, { action });
  }
}

export function requireAdmin(c: Context<AppBindings>): void {
  if (!c.get("principal").isAdmin) throw new ApiError(ErrorCode.Forbidden, "This route needs the admin token");
}
