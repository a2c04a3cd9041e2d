// `GET /metrics`: Prometheus text exposition of every station the token may manage (the admin
// token: all; a token that may manage none is refused). Behind the same bearer authentication
// and per-token rate limit as /v1; a scrape is served again for a few seconds from this
// isolate (worker/metrics/scrape-cache.ts), never by a browser or proxy cache.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "../metrics/exposition";
import { buildFamilies } from "../metrics/families";
import { MAX_METRICS_STATIONS, gatherSnapshots } from "../metrics/gather";
import { ScrapeCache } from "../metrics/scrape-cache";
import { authenticate } from "../middleware/authenticate";
import { limitTokenRate } from "../middleware/rate-limit";
import { catalogStub } from "../stubs";

const scrapes = new ScrapeCache();

export const metrics = new Hono<AppBindings>().get("/metrics", authenticate, limitTokenRate, async (c) => {
  const principal = c.get("principal");
  const all = await catalogStub(c.env).listStations();
  const names = all.map((s) => s.name).filter((name) => principal.can(Action.Manage, name));
  if (names.length === 0 && !principal.canEverywhere(Action.Manage)) {
    throw new ApiError(ErrorCode.Forbidden, "Metrics need the admin token or a token that may manage a station");
  }
  const reported = names.slice(0, MAX_METRICS_STATIONS);
  const omitted = names.length - reported.length;
  const body = await scrapes.get(reported, omitted, Date.now(), async () => renderExposition(buildFamilies(await gatherSnapshots(c.env, reported), omitted)));
  return c.body(body, 200, { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" });
});
