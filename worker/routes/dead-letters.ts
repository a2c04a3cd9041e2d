// The dead-letter station of a station: browse (filters: group, reason, limit, after; one
// partition or all merged), resend (by ids on a partition, or all of a group/reason on every
// partition) and drop. All need the manage right on the station.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { DeadLetterIdParamSchema, DeadLetterQuerySchema, DropQuerySchema, ResendRequestSchema } from "../../shared/dead-letters";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { readJson, unwrapValidation } from "../http/read-json";
import { stationAccess } from "../middleware/station-access";
import { dropStationDeadLetter, listStationDeadLetters, resendStationDeadLetters } from "../partitions/dead-letters";

export const deadLetters = new Hono<AppBindings>()
  .get("/", stationAccess(Action.Manage), async (c) => {
    const query = unwrapValidation(DeadLetterQuerySchema, c.req.query());
    return c.json(unwrap(await listStationDeadLetters(c.env, c.var.station, query)));
  })
  .post("/resend", stationAccess(Action.Manage), async (c) => {
    const request = await readJson(c, ResendRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(unwrap(await resendStationDeadLetters(c.env, c.var.station, request)));
  })
  .delete("/:id", stationAccess(Action.Manage), async (c) => {
    const id = unwrapValidation(DeadLetterIdParamSchema, c.req.param("id"));
    const { partition = 0 } = unwrapValidation(DropQuerySchema, c.req.query());
    return c.json(unwrap(await dropStationDeadLetter(c.env, c.var.station, id, partition)));
  });
