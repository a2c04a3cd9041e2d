// Checks the caller's right to an action on a station, a schema or everywhere, before any storage is touched.
import type { Context } from "hono";
import type { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";

/**
 * The right to one of `actions` on `station` (and on `group` of it, where the route names one:
 * a grant's `groups` narrows it). A refusal speaks of the first action.
 */
export function requireStationAccess(c: Context<AppBindings>, actions: readonly [Action, ...Action[]], station: string, group: string | null): void {
  const principal = c.get("principal");
  const reaches = (action: Action) => principal.can(action, station) && (group === null || principal.canGroup(action, station, group));
  if (actions.some(reaches)) return;
  const [action] = actions;
  if (group === null || !principal.can(action, station)) {
    throw new ApiError(ErrorCode.Forbidden, `This token may not ${action} on station ${station}`, { action, station });
  }
  throw new ApiError(ErrorCode.Forbidden, `This token may not ${action} group ${group} of station ${station}`, { action, station, group });
}

/** The right to read, add versions of or bind schema `name`: a `manage` grant reaching it. */
export function requireSchema(c: Context<AppBindings>, name: string): void {
  if (!c.get("principal").canSchema(name)) {
    throw new ApiError(ErrorCode.Forbidden, `This token may not use schema ${name}: it needs a manage grant whose schemas (or stations) name it`, {
      action: "manage",
      schema: name,
    });
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
