// The Worker's bindings: Durable Object namespaces, secrets and vars (see wrangler.toml).
import type { Catalog } from "./catalog/catalog";
import type { Station } from "./station/station";
import type { EnvVars } from "./env-vars";

export interface Env extends EnvVars {
  STATION: DurableObjectNamespace<Station>;
  CATALOG: DurableObjectNamespace<Catalog>;
}

export interface AppBindings {
  Bindings: Env;
  Variables: { principal: import("./auth/principal").Principal };
}
