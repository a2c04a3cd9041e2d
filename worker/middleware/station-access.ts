// The gate of every route under /v1/stations/:station, put on each route with the action it
// needs: the names in the path (the station's first, then a group's or an endpoint's) against
// the name rules, then the caller's grant — before the handler touches any storage. The handler
// reads the checked station as `c.var.station`. Per route, not `use("*")`: a method no route
// takes answers 405 before any name or grant is looked at.
import type { MiddlewareHandler } from "hono";
import type { Action } from "../../shared/auth";
import { requireStationAccess } from "../auth/require";
import type { AppBindings } from "../env";
import { stationPathNames } from "../http/params";

/**
 * Lets the request through with the right to `action` on the path's station (and group, where
 * the path names one), or, given more, the right to any one of them; a refusal (403) speaks of
 * the first. An invalid name answers 400 `invalid_name` before any grant is looked at.
 *
 * @example
 * new Hono<AppBindings>().post("/", stationAccess(Action.Produce), (c) => produce(c.var.station));
 */
export function stationAccess(...actions: [Action, ...Action[]]): MiddlewareHandler<AppBindings> {
  return async (c, next) => {
    const { station, group } = stationPathNames(c);
    requireStationAccess(c, actions, station, group);
    c.set("station", station);
    await next();
  };
}
