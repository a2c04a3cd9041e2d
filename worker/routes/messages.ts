// Produce a batch (spread over the station's partitions) and replay one partition's log
// (`?partition=P`, 0 by default; `?decode=json`: protobuf and Avro bodies as JSON).
import { Hono } from "hono";
import * as v from "valibot";
import { Action } from "../../shared/auth";
import { MAX_PRODUCE_REQUEST_BYTES } from "../../shared/limits";
import { ReadQuerySchema, type ReadResponse } from "../../shared/messages";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { parseProduceRequest } from "../http/produce-request";
import { readJson, unwrapValidation } from "../http/read-json";
import { stationAccess } from "../middleware/station-access";
import { partitionInRange, partitionStub } from "../partitions/objects";
import { produceToStation } from "../partitions/produce";
import { decodeBinaryBodies } from "../schemas/decode-bodies";
import { catalogStub } from "../stubs";

export const messages = new Hono<AppBindings>()
  .post("/", stationAccess(Action.Produce), async (c) => {
    const name = c.var.station;
    // Parsed only here: a sequenced batch's messages are checked one by one (produce-request.ts).
    const parsed = await readJson(c, v.unknown(), { maxBytes: MAX_PRODUCE_REQUEST_BYTES, ownDepthCheck: true });
    return c.json(unwrap(await produceToStation(c.env, name, parseProduceRequest(parsed))));
  })
  .get("/", stationAccess(Action.Consume), async (c) => {
    const name = c.var.station;
    const query = unwrapValidation(ReadQuerySchema, c.req.query());
    // Partition 0 needs no count: it is the station's own object (and answers 404 for no station).
    const partition = query.partition ?? 0;
    if (partition > 0) unwrap(await partitionInRange(c.env, name, partition));
    const stub = partitionStub(c.env, name, partition);
    const page: ReadResponse = unwrap(await stub.read(query.from, query.limit));
    if (query.decode !== "json") return c.json(page);
    // Versions are those of the station's schema now (a changed schema name leaves old bodies as stored).
    const current = unwrap(await stub.currentSchema());
    if (!current) return c.json(page);
    const catalog = catalogStub(c.env);
    return c.json({ ...page, messages: await decodeBinaryBodies(page.messages, (version) => catalog.getSchema(current.name, version)) });
  });
