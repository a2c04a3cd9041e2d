// `GET /metrics`: Prometheus text exposition of every station the token may manage (the admin
// token: all; a token that may manage none is refused). Behind the same bearer authentication
// as /v1; never cached.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "../metrics/exposition";
import { buildFamilies } from "../metrics/families";
import { MAX_METRICS_STATIONS, gatherSnapshots } from "../metrics/gather";
import { authenticate } from "../middleware/authenticate";
import { catalogStub } from "../stubs";

export const metrics = new Hono<AppBindings>().get("/metrics", authenticate, async (c) => {
  const principal = c.get("principal");
  const all = await catalogStub(c.env).listStations();
  const names = all.map((s) => s.name).filter((name) => principal.can(Action.Manage, name));
  if (names.length === 0 && !principal.canEverywhere(Action.Manage)) {
    throw new ApiError(ErrorCode.Forbidden, "Metrics need the admin token or a token that may manage a station");
  }
  const reported = names.slice(0, MAX_METRICS_STATIONS);
  const snapshots = await gatherSnapshots(c.env, reported);
  const body = renderExposition(buildFamilies(snapshots, names.length - reported.length));
  return c.body(body, 200, { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" });
});
