// Station management: create or update (PUT), list, describe, delete.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { StationConfigSchema } from "../../shared/config";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { requireAccess } from "../auth/require";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { stationParam } from "../http/params";
import { readJson } from "../http/read-json";
import { catalogStub, stationStub } from "../stubs";

export const stations = new Hono<AppBindings>()
  .get("/", async (c) => {
    const principal = c.get("principal");
    const all = await catalogStub(c.env).listStations();
    return c.json({ stations: all.filter((s) => principal.can(Action.Manage, s.name) || principal.can(Action.Produce, s.name) || principal.can(Action.Consume, s.name)) });
  })
  .put("/:station", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Manage, name);
    const config = await readJson(c, StationConfigSchema, { maxBytes: MAX_REQUEST_BYTES, allowEmpty: true });
    // A station may only name a schema version that exists (404 schema_not_found otherwise).
    if (config.schema) unwrap(await catalogStub(c.env).getSchema(config.schema.name, config.schema.version));
    const { created, info } = unwrap(await stationStub(c.env, name).configure(name, config));
    await catalogStub(c.env).recordStation({ name, config: info.config, createdAt: info.createdAt, updatedAt: info.updatedAt });
    return c.json(info, created ? 201 : 200);
  })
  .get("/:station", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Manage, name);
    return c.json(unwrap(await stationStub(c.env, name).info()));
  })
  .delete("/:station", async (c) => {
    const name = stationParam(c);
    requireAccess(c, Action.Manage, name);
    const result = unwrap(await stationStub(c.env, name).destroy());
    await catalogStub(c.env).forgetStation(name);
    return c.json({ name, ...result });
  });
