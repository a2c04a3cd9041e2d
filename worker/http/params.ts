// Path segments that name things: checked against the name rules before any storage is touched.
import type { Context } from "hono";
import { ErrorCode } from "../../shared/errors";
import { GROUP_NAME_PATTERN, STATION_NAME_PATTERN } from "../../shared/names";
import { ApiError } from "./api-error";

/** Endpoint names follow the group rule (an endpoint is a group whose member is the endpoint). */
const WEBHOOK_NAME_PATTERN = GROUP_NAME_PATTERN;

/** The names a path under a station may hold besides the station's, in the order they are checked. */
const INNER_NAME_RULES = [
  ["group", GROUP_NAME_PATTERN],
  ["webhook", WEBHOOK_NAME_PATTERN],
] as const;

export interface StationPathNames {
  station: string;
  /** The group the path names (a grant's `groups` narrows access to it), or null. */
  group: string | null;
}

/** The station's name, then each other name the path holds (group, webhook), checked in that order. */
export function stationPathNames(c: Context): StationPathNames {
  const station = nameParam(c, "station", STATION_NAME_PATTERN);
  for (const [param, pattern] of INNER_NAME_RULES) if (c.req.param(param) !== undefined) nameParam(c, param, pattern);
  return { station, group: c.req.param("group") ?? null };
}

export function nameParam(c: Context, param: string, pattern: RegExp): string {
  const value = c.req.param(param) ?? "";
  if (!pattern.test(value)) {
    throw new ApiError(ErrorCode.InvalidName, `Invalid ${param} name: it must match ${pattern.source}`, {
      [param]: value.slice(0, 200),
    });
  }
  return value;
}
