// How the Worker and the stations reach the one Catalog Durable Object.
import type { Catalog } from "./catalog";

export function catalogStub(env: { CATALOG: DurableObjectNamespace<Catalog> }) {
  return env.CATALOG.get(env.CATALOG.idFromName("catalog"));
}
