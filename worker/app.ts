// The Hono app: /healthz, then everything under /v1 behind authentication; errors mapped once.
import { Hono } from "hono";
import { ErrorCode } from "../shared/errors";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../shared/version";
import type { AppBindings } from "./env";
import { errorResponse, jsonError } from "./http/error-response";
import { authenticate } from "./middleware/authenticate";
import { docs } from "./routes/docs";
import { health } from "./routes/health";
import { messages } from "./routes/messages";
import { schemas } from "./routes/schemas";
import { stationSchema } from "./routes/station-schema";
import { metrics } from "./routes/metrics";
import { stations } from "./routes/stations";

export function buildApp() {
  const v1 = new Hono<AppBindings>()
    .use("*", authenticate)
    .route("/stations", stations)
    .route("/stations", messages)
    .route("/stations", docs)
    .route("/stations", stationSchema)
    .route("/schemas", schemas);

  const app = new Hono<AppBindings>()
    .use("*", async (c, next) => {
      await next();
      c.res.headers.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
      // API answers carry tokens' data: no browser or proxy keeps a copy.
      if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
    })
    .route("/", health)
    .route("/", metrics)
    .route("/v1", v1);

  app.notFound(() => jsonError({ code: ErrorCode.NotFound, message: "No such route" }));
  app.onError(errorResponse);
  return app;
}
