// Station management: create or update (PUT), list, describe, delete — each over every
// partition of the station (worker/partitions/station-lifecycle.ts).
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { StationConfigSchema } from "../../shared/config";
import { MAX_REQUEST_BYTES, MAX_STATIONS_PER_PREFIX } from "../../shared/limits";
import type { Principal } from "../auth/principal";
import { requireSchemaBinding } from "../auth/schema-binding";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { readJson } from "../http/read-json";
import { stationAccess } from "../middleware/station-access";
import { checkPartitionChange, configureStation, describeStation, destroyStation } from "../partitions/station-lifecycle";
import { catalogStub } from "../stubs";

export const stations = new Hono<AppBindings>()
  .get("/", async (c) => {
    const principal = c.get("principal");
    const all = await catalogStub(c.env).listStations();
    return c.json({ stations: all.filter((s) => principal.can(Action.Manage, s.name) || principal.can(Action.Produce, s.name) || principal.can(Action.Consume, s.name)) });
  })
  .put("/:station", stationAccess(Action.Manage), async (c) => {
    const name = c.var.station;
    const config = await readJson(c, StationConfigSchema, { maxBytes: MAX_REQUEST_BYTES, allowEmpty: true });
    const previousPartitions = unwrap(await checkPartitionChange(c.env, name, config));
    // Binding a schema needs a grant on it (403 before any lookup), and the version must exist (404).
    if (config.schema) await requireSchemaBinding(c, name, config.schema.name);
    if (config.schema) unwrap(await catalogStub(c.env).getSchema(config.schema.name, config.schema.version));
    // A scoped token creates stations under its prefix up to a cap (the admin is not capped).
    const prefix = tokenPrefixOf(c.get("principal"), name);
    let reserved = false;
    if (prefix !== null) {
      const now = Date.now();
      const entry = { name, config: { ...config }, createdAt: now, updatedAt: now };
      reserved = unwrap(await catalogStub(c.env).reserveStation(entry, prefix, MAX_STATIONS_PER_PREFIX)).reserved;
    }
    let configured;
    try {
      configured = unwrap(await configureStation(c.env, name, config, previousPartitions));
    } catch (error) {
      if (reserved) await catalogStub(c.env).forgetStation(name);
      throw error;
    }
    const { created, info } = configured;
    await catalogStub(c.env).recordStation({ name, config: info.config, createdAt: info.createdAt, updatedAt: info.updatedAt });
    return c.json(info, created ? 201 : 200);
  })
  .get("/:station", stationAccess(Action.Manage), async (c) => {
    return c.json(unwrap(await describeStation(c.env, c.var.station)));
  })
  .delete("/:station", stationAccess(Action.Manage), async (c) => {
    const name = c.var.station;
    const result = unwrap(await destroyStation(c.env, name));
    await catalogStub(c.env).forgetStation(name);
    return c.json({ name, ...result });
  });

/**
 * The station prefix a scoped token creates `station` under, for MAX_STATIONS_PER_PREFIX: the
 * shortest `p.` such that the token's manage grants reach every name under it (a `p.*`
 * pattern), or "" for a `*` grant; null for the admin and for a grant of that exact name only
 * (one station, nothing to cap). Asked through the principal with a name under the prefix that
 * no exact pattern can equal ("~" is not a station-name character), so only wildcards match.
 */
export function tokenPrefixOf(principal: Principal, station: string): string | null {
  if (principal.isAdmin) return null;
  if (principal.can(Action.Manage, "~")) return "";
  for (let dot = station.indexOf("."); dot >= 0; dot = station.indexOf(".", dot + 1)) {
    const prefix = station.slice(0, dot + 1);
    if (principal.can(Action.Manage, `${prefix}~`)) return prefix;
  }
  return null;
}
