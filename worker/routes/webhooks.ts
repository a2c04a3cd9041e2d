// Webhook endpoints of a station: create or update (PUT), list and describe with delivery health
// (GET), delete, and replay from an offset. All need the manage right on the station. URLs pass
// the SSRF guard here (names resolved too), before the station object sees them. Every
// partition of the station delivers its own messages (worker/partitions/webhooks.ts).
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { GROUP_NAME_PATTERN } from "../../shared/names";
import { PutWebhookRequestSchema, ReplayWebhookRequestSchema } from "../../shared/webhooks";
import { requireAccess } from "../auth/require";
import type { AppBindings } from "../env";
import { ApiError, unwrap } from "../http/api-error";
import { nameParam, stationParam } from "../http/params";
import { readJson } from "../http/read-json";
import { allowsPrivateWebhooks, guardWebhookUrl, resolverFor, secretKeyProblem } from "../station/webhooks";
import { deleteStationWebhook, getStationWebhook, listStationWebhooks, putStationWebhook, replayStationWebhook } from "../partitions/webhooks";

/** Endpoint names follow the group rule (an endpoint is a group whose member is the endpoint). */
const webhookParam = (c: Parameters<typeof stationParam>[0]) => nameParam(c, "webhook", GROUP_NAME_PATTERN);

export const webhooks = new Hono<AppBindings>()
  .get("/:station/webhooks", async (c) => {
    const station = stationParam(c);
    requireAccess(c, Action.Manage, station);
    return c.json(unwrap(await listStationWebhooks(c.env, station)));
  })
  .put("/:station/webhooks/:webhook", async (c) => {
    const station = stationParam(c);
    const name = webhookParam(c);
    requireAccess(c, Action.Manage, station);
    // Fail closed: without the key that seals secrets at rest, no endpoint is saved.
    const keyProblem = secretKeyProblem(c.env);
    if (keyProblem !== null) throw new ApiError(ErrorCode.NotConfigured, keyProblem);
    const request = await readJson(c, PutWebhookRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const checked = await guardWebhookUrl(request.url, allowsPrivateWebhooks(c.env), resolverFor(c.env));
    if (!checked.ok) {
      throw new ApiError(ErrorCode.InvalidWebhookUrl, checked.message, { reason: checked.reason, url: request.url.slice(0, 200) });
    }
    const { created, webhook } = unwrap(await putStationWebhook(c.env, station, name, request, checked.url));
    return c.json(webhook, created ? 201 : 200);
  })
  .get("/:station/webhooks/:webhook", async (c) => {
    const station = stationParam(c);
    const name = webhookParam(c);
    requireAccess(c, Action.Manage, station);
    return c.json(unwrap(await getStationWebhook(c.env, station, name)));
  })
  .delete("/:station/webhooks/:webhook", async (c) => {
    const station = stationParam(c);
    const name = webhookParam(c);
    requireAccess(c, Action.Manage, station);
    const result = unwrap(await deleteStationWebhook(c.env, station, name));
    return c.json({ name, ...result });
  })
  .post("/:station/webhooks/:webhook/replay", async (c) => {
    const station = stationParam(c);
    const name = webhookParam(c);
    requireAccess(c, Action.Manage, station);
    const request = await readJson(c, ReplayWebhookRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(unwrap(await replayStationWebhook(c.env, station, name, request)));
  });
