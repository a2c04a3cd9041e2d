// The Worker's bindings: Durable Object namespaces, secrets and vars (see wrangler.toml).
import type { Catalog } from "./catalog/catalog";
import type { Station } from "./station/station";

export interface Env {
  STATION: DurableObjectNamespace<Station>;
  CATALOG: DurableObjectNamespace<Catalog>;
  /** The admin bearer token. Without it every /v1 route answers 503 `not_configured`. */
  ADMIN_TOKEN?: string;
  /** `1` lets webhook endpoints be http:// and loopback (local development and tests only). */
  WEBHOOK_ALLOW_PRIVATE?: string;
}

export interface AppBindings {
  Bindings: Env;
  Variables: { principal: import("./auth/principal").Principal };
}
