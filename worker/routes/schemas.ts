// Schemaverse: add a schema version (checked first), read a schema's versions, list schemas.
// Schemas belong to the whole deployment, not to a station, so these routes need manage on every
// station: the admin token, or a scoped token with a `manage` grant on `*` (docs/security.md).
import { Hono } from "hono";
import * as v from "valibot";
import { Action } from "../../shared/auth";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { STATION_NAME_PATTERN } from "../../shared/names";
import {
  PutSchemaRequestSchema,
  putSchemaRequestOf,
  type PutSchemaResponse,
  type SchemaListResponse,
  SchemaVersionParamSchema,
  type SchemaVersionsResponse,
} from "../../shared/schemas";
import { requireEverywhere } from "../auth/require";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { nameParam } from "../http/params";
import { readJson, unwrapValidation } from "../http/read-json";
import { checkSchema } from "../schemas/check-schema";
import { notifyFollowers } from "../schemas/notify-followers";
import { toSchemaVersion } from "../schemas/to-wire";
import { catalogStub } from "../stubs";

export const schemas = new Hono<AppBindings>()
  .get("/", async (c) => {
    requireEverywhere(c, Action.Manage);
    const body: SchemaListResponse = { schemas: await catalogStub(c.env).listSchemas() };
    return c.json(body);
  })
  .put("/:schema", async (c) => {
    requireEverywhere(c, Action.Manage);
    const name = nameParam(c, "schema", STATION_NAME_PATTERN);
    const raw = await readJson(c, v.unknown(), { maxBytes: MAX_REQUEST_BYTES });
    const request = unwrapValidation(PutSchemaRequestSchema, putSchemaRequestOf(raw));
    const checked = unwrap(checkSchema(request.schema, request.draft));
    const added = unwrap(
      await catalogStub(c.env).addSchema(name, { draft: checked.draft, text: checked.text, description: request.description ?? null }),
    );
    // Stations following `latest` switch before we answer, so the next produce meets the new version.
    if (added.followers.length > 0) await notifyFollowers(c.env, added.followers, name, added.stored.version);
    const body: PutSchemaResponse = { ...toSchemaVersion(added.stored), created: added.created };
    return c.json(body, added.created ? 201 : 200);
  })
  .get("/:schema", async (c) => {
    requireEverywhere(c, Action.Manage);
    const name = nameParam(c, "schema", STATION_NAME_PATTERN);
    const versions = unwrap(await catalogStub(c.env).schemaVersions(name)).map(toSchemaVersion);
    const body: SchemaVersionsResponse = { name, latestVersion: versions.at(-1)!.version, versions };
    return c.json(body);
  })
  .get("/:schema/versions/:version", async (c) => {
    requireEverywhere(c, Action.Manage);
    const name = nameParam(c, "schema", STATION_NAME_PATTERN);
    const version = unwrapValidation(SchemaVersionParamSchema, c.req.param("version"));
    return c.json(toSchemaVersion(unwrap(await catalogStub(c.env).getSchema(name, version))));
  });
