// How the Worker reaches its Durable Objects: one Station per station name, one Catalog.
import type { Env } from "./env";

export { catalogStub } from "./catalog/stub";

export function stationStub(env: Env, station: string) {
  return env.STATION.get(env.STATION.idFromName(station));
}
