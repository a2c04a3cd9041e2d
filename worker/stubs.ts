// How the Worker reaches its Durable Objects: one Station per station name, one Catalog.
import type { Env } from "./env";

export function stationStub(env: Env, station: string) {
  return env.STATION.get(env.STATION.idFromName(station));
}

export function catalogStub(env: Env) {
  return env.CATALOG.get(env.CATALOG.idFromName("catalog"));
}
