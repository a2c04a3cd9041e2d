// The Hono app: /healthz, then everything under /v1 behind authentication, each resource of a
// station mounted at its own path; errors mapped once.
import { Hono } from "hono";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../shared/version";
import type { AppBindings } from "./env";
import { errorResponse } from "./http/error-response";
import { setHeaders } from "./http/set-headers";
import { methodNotAllowedOrNotFound } from "./http/method-not-allowed-or-not-found";
import { authenticate } from "./middleware/authenticate";
import { cors } from "./middleware/cors";
import { limitTokenRate } from "./middleware/rate-limit";
import { boundRequest } from "./middleware/request-bounds";
import { docs } from "./routes/docs";
import { deadLetters } from "./routes/dead-letters";
import { groups } from "./routes/groups";
import { health } from "./routes/health";
import { openapi } from "./routes/openapi";
import { messages } from "./routes/messages";
import { schemas } from "./routes/schemas";
import { stationSchema } from "./routes/station-schema";
import { metrics } from "./routes/metrics";
import { stations } from "./routes/stations";
import { tokens } from "./routes/tokens";
import { webhooks } from "./routes/webhooks";

export function buildApp() {
  const v1 = new Hono<AppBindings>()
    .use("*", authenticate)
    .use("*", limitTokenRate)
    .route("/tokens", tokens)
    .route("/stations", stations)
    .route("/stations/:station/messages", messages)
    .route("/stations/:station/groups", groups)
    .route("/stations/:station/dls", deadLetters)
    .route("/stations/:station/doc", docs)
    .route("/stations/:station/schema", stationSchema)
    .route("/stations/:station/webhooks", webhooks)
    .route("/schemas", schemas);

  const app = new Hono<AppBindings>()
    .use("*", boundRequest)
    .use("*", cors)
    .use("*", async (c, next) => {
      await next();
      if (c.res.status === 101) return; // a WebSocket upgrade: its headers are fixed
      // API answers carry tokens' data: no browser or proxy keeps a copy.
      const cacheControl: Record<string, string> = c.res.headers.has("cache-control") ? {} : { "cache-control": "no-store" };
      setHeaders(c, { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), ...cacheControl });
    })
    .route("/", health)
    .route("/", openapi)
    .route("/", metrics)
    .route("/v1", v1);

  app.notFound(methodNotAllowedOrNotFound(app));
  app.onError(errorResponse);
  return app;
}
