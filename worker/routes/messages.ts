// Produce a batch and replay the log.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { MAX_PRODUCE_REQUEST_BYTES } from "../../shared/limits";
import { ProduceRequestSchema, ReadQuerySchema } from "../../shared/messages";
import { requireAccess } from "../auth/require";
import type { AppBindings } from "../env";
import { ApiError, unwrap } from "../http/api-error";
import { stationParam } from "../http/params";
import { checkProduceSizes } from "../http/produce-size-check";
import { readJson, unwrapValidation } from "../http/read-json";
import { prepareBatch } from "../station/batch";
import { stationStub } from "../stubs";

export const messages = new Hono<AppBindings>()
  .post("/:station/messages", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Produce, name);
    const request = await readJson(c, ProduceRequestSchema, { maxBytes: MAX_PRODUCE_REQUEST_BYTES, precheck: checkProduceSizes });
    const prepared = prepareBatch(request);
    if (!prepared.ok) throw ApiError.from(prepared.error);
    return c.json(unwrap(await stationStub(c.env, name).produce(prepared.value)));
  })
  .get("/:station/messages", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Consume, name);
    const query = unwrapValidation(ReadQuerySchema, c.req.query());
    return c.json(unwrap(await stationStub(c.env, name).read(query.from, query.limit)));
  });
