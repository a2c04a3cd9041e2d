// Path segments that name things: checked against the name rules before any storage is touched.
import type { Context } from "hono";
import { ErrorCode } from "../../shared/errors";
import { CONSUMER_NAME_PATTERN, GROUP_NAME_PATTERN, STATION_NAME_PATTERN } from "../../shared/names";
import { ApiError } from "./api-error";

export function stationParam(c: Context): string {
  return nameParam(c, "station", STATION_NAME_PATTERN);
}

export function groupParam(c: Context): string {
  return nameParam(c, "group", GROUP_NAME_PATTERN);
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

export { CONSUMER_NAME_PATTERN };
