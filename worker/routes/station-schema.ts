// `GET /v1/stations/{station}/schema`: the schema the station checks produce against now, for
// producers (the browser SDK) to check bodies themselves before queueing them. Needs produce rights.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import type { StationSchemaResponse } from "../../shared/schemas";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { stationAccess } from "../middleware/station-access";
import { stationStub } from "../stubs";

export const stationSchema = new Hono<AppBindings>().get("/", stationAccess(Action.Produce), async (c) => {
  const name = c.var.station;
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
