// Webhook endpoints of a station: create or update (PUT), list and describe with delivery health
// (GET), delete, and replay from an offset. All need the manage right on the station (checked,
// with the endpoint's name, by stationAccess). URLs pass the SSRF guard here (names resolved
// too), before the station object sees them. Every partition of the station delivers its own
// messages (worker/partitions/webhooks.ts).
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { PutWebhookRequestSchema, ReplayWebhookRequestSchema } from "../../shared/webhooks";
import type { AppBindings } from "../env";
import { ApiError, unwrap } from "../http/api-error";
import { readJson } from "../http/read-json";
import { stationAccess } from "../middleware/station-access";
import { allowsPrivateWebhooks, guardWebhookUrl, resolverFor, secretKeyProblem } from "../station/webhooks";
import { deleteStationWebhook, getStationWebhook, listStationWebhooks, putStationWebhook, replayStationWebhook } from "../partitions/webhooks";

export const webhooks = new Hono<AppBindings>()
  .get("/", stationAccess(Action.Manage), async (c) => {
    return c.json(unwrap(await listStationWebhooks(c.env, c.var.station)));
  })
  .put("/:webhook", stationAccess(Action.Manage), async (c) => {
    // Fail closed: without the key that seals secrets at rest, no endpoint is saved.
    const keyProblem = secretKeyProblem(c.env);
    if (keyProblem !== null) throw new ApiError(ErrorCode.NotConfigured, keyProblem);
    const request = await readJson(c, PutWebhookRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const checked = await guardWebhookUrl(request.url, allowsPrivateWebhooks(c.env), resolverFor(c.env));
    if (!checked.ok) {
      throw new ApiError(ErrorCode.InvalidWebhookUrl, checked.message, { reason: checked.reason, url: request.url.slice(0, 200) });
    }
    const { created, webhook } = unwrap(await putStationWebhook(c.env, c.var.station, c.req.param("webhook"), request, checked.url));
    return c.json(webhook, created ? 201 : 200);
  })
  .get("/:webhook", stationAccess(Action.Manage), async (c) => {
    return c.json(unwrap(await getStationWebhook(c.env, c.var.station, c.req.param("webhook"))));
  })
  .delete("/:webhook", stationAccess(Action.Manage), async (c) => {
    const name = c.req.param("webhook");
    const result = unwrap(await deleteStationWebhook(c.env, c.var.station, name));
    return c.json({ name, ...result });
  })
  .post("/:webhook/replay", stationAccess(Action.Manage), async (c) => {
    const request = await readJson(c, ReplayWebhookRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(unwrap(await replayStationWebhook(c.env, c.var.station, c.req.param("webhook"), request)));
  });
