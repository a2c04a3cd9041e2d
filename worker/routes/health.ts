// `GET /healthz`: the only route without a token. Says nothing secret, only that we serve.
import { Hono } from "hono";
import { PROTOCOL_VERSION } from "../../shared/version";
import type { AppBindings } from "../env";

export const health = new Hono<AppBindings>().get("/healthz", (c) =>
  c.json({ ok: true, protocol: PROTOCOL_VERSION, configured: Boolean(c.env.ADMIN_TOKEN) }),
);
