// What a Station Durable Object gets as its env: the Worker's vars and the Catalog namespace.
// Not Env itself, which names the Station class and would tie this module's imports in a cycle.
import type { Catalog } from "../catalog/catalog";
import type { EnvVars } from "../env-vars";

export interface StationEnv extends EnvVars {
  CATALOG: DurableObjectNamespace<Catalog>;
}
