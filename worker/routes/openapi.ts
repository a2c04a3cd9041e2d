// `GET /openapi.json`: the OpenAPI 3.1 description of this API, generated from the shared/
// schemas (shared/openapi/document.ts). No token: it says only what docs/http-api.md says.
import { Hono } from "hono";
import { buildOpenApiDocument, OPENAPI_PATH } from "../../shared/openapi/document";
import type { AppBindings } from "../env";

/** Built once per isolate and origin: the conversion is pure, and costs a few milliseconds. */
const documents = new Map<string, string>();
const MAX_CACHED_ORIGINS = 8;

export const openapi = new Hono<AppBindings>().get(OPENAPI_PATH, (c) => {
  const origin = new URL(c.req.url).origin;
  let text = documents.get(origin);
  if (text === undefined) {
    text = JSON.stringify(buildOpenApiDocument(origin));
    if (documents.size >= MAX_CACHED_ORIGINS) documents.clear();
    documents.set(origin, text);
  }
  return c.body(text, 200, { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" });
});
