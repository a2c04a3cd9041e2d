// The Hono app: /healthz, then everything under /v1 behind authentication; errors mapped once.
import { Hono } from "hono";
import { ErrorCode } from "../shared/errors";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../shared/version";
import type { AppBindings } from "./env";
import { errorResponse, jsonError } from "./http/error-response";
import { authenticate } from "./middleware/authenticate";
import { health } from "./routes/health";
import { messages } from "./routes/messages";
import { stations } from "./routes/stations";

export function buildApp() {
  const v1 = new Hono<AppBindings>()
    .use("*", authenticate)
    .route("/stations", stations)
    .route("/stations", messages);

  const app = new Hono<AppBindings>()
    .use("*", async (c, next) => {
      await next();
      c.res.headers.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
    })
    .route("/", health)
    .route("/v1", v1);

  app.notFound(() => jsonError({ code: ErrorCode.NotFound, message: "No such route" }));
  app.onError(errorResponse);
  return app;
}
