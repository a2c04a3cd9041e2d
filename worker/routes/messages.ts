// Produce a batch and replay the log.
import { Hono } from "hono";
import * as v from "valibot";
import { Action } from "../../shared/auth";
import { MAX_PRODUCE_REQUEST_BYTES } from "../../shared/limits";
import { ReadQuerySchema } from "../../shared/messages";
import { requireAccess } from "../auth/require";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { stationParam } from "../http/params";
import { parseProduceRequest } from "../http/produce-request";
import { readJson, unwrapValidation } from "../http/read-json";
import { stationStub } from "../stubs";

export const messages = new Hono<AppBindings>()
  .post("/:station/messages", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Produce, name);
    // Parsed only here: a sequenced batch's messages are checked one by one (produce-request.ts).
    const parsed = await readJson(c, v.unknown(), { maxBytes: MAX_PRODUCE_REQUEST_BYTES, ownDepthCheck: true });
    return c.json(unwrap(await stationStub(c.env, name).produce(parseProduceRequest(parsed))));
  })
  .get("/:station/messages", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Consume, name);
    const query = unwrapValidation(ReadQuerySchema, c.req.query());
    return c.json(unwrap(await stationStub(c.env, name).read(query.from, query.limit)));
  });
