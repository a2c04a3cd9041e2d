// `GET /v1/stations/{station}/schema`: the schema the station checks produce against now, for
// producers (the browser SDK) to check bodies themselves before queueing them. Needs produce rights.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import type { StationSchemaResponse } from "../../shared/schemas";
import { requireAccess } from "../auth/require";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { stationParam } from "../http/params";
import { stationStub } from "../stubs";

export const stationSchema = new Hono<AppBindings>().get("/:station/schema", async (c) => {
  const name = stationParam(c);
  requireAccess(c, Action.Produce, name);
  const current = unwrap(await stationStub(c.env, name).currentSchema());
  const body: StationSchemaResponse = {
    station: name,
    schema: current && {
      name: current.name,
      version: current.version,
      follows: current.follows,
      format: current.format,
      draft: current.draft,
      schema: JSON.parse(current.text) as unknown,
    },
  };
  return c.json(body);
});
