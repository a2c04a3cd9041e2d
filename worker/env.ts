// The Worker's bindings: Durable Object namespaces, secrets and vars (see wrangler.toml).
import type { Catalog } from "./catalog/catalog";
import type { Principal } from "./auth/principal";
import type { Station } from "./station/station";
import type { EnvVars } from "./env-vars";

export interface Env extends EnvVars {
  STATION: DurableObjectNamespace<Station>;
  CATALOG: DurableObjectNamespace<Catalog>;
}

export interface AppBindings {
  Bindings: Env;
  Variables: {
    /** Who is calling: set by `authenticate` on every route under /v1 (and /metrics). */
    principal: Principal;
    /** The route's station, its name checked and the caller's grant on it too: set by
     *  `stationAccess` (worker/middleware/station-access.ts) on routes under /v1/stations/:station. */
    station: string;
  };
}
