// The Worker's entry: the Hono app and the Durable Object classes wrangler.toml binds.
import { buildApp } from "./app";

export { Catalog } from "./catalog/catalog";
export { Station } from "./station/station";

export default buildApp();
