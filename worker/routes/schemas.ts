// Schemaverse: add a schema version (checked first), read a schema's versions, list schemas.
// Schema names are shared by the whole deployment and reached like stations: a `manage` grant
// whose `schemas` patterns (or, without them, its `stations` patterns) name the schema; the list
// shows only those (docs/security.md). A tenant's `a.*` cannot read or bind `b.*` schemas.
import { Hono } from "hono";
import * as v from "valibot";
import { Action } from "../../shared/auth";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { STATION_NAME_PATTERN } from "../../shared/names";
import {
  PutSchemaRequestSchema,
  SchemaFormat,
  putSchemaRequestOf,
  type PutSchemaResponse,
  type SchemaListResponse,
  SchemaVersionParamSchema,
  type SchemaVersionsResponse,
} from "../../shared/schemas";
import { requireSchema } from "../auth/require";
import { ErrorCode } from "../../shared/errors";
import { ApiError } from "../http/api-error";
import type { AppBindings } from "../env";
import { unwrap } from "../http/api-error";
import { nameParam } from "../http/params";
import { readJson, unwrapValidation } from "../http/read-json";
import { checkSchemaVersion } from "../schemas/check-version";
import { notifyFollowers } from "../schemas/notify-followers";
import { toSchemaVersion } from "../schemas/to-wire";
import { catalogStub } from "../stubs";

export const schemas = new Hono<AppBindings>()
  .get("/", async (c) => {
    const principal = c.get("principal");
    if (!principal.mayReachSchemas) {
      throw new ApiError(ErrorCode.Forbidden, "Schemas need the admin token or a manage grant", { action: Action.Manage });
    }
    const all = await catalogStub(c.env).listSchemas();
    const body: SchemaListResponse = { schemas: all.filter((schema) => principal.canSchema(schema.name)) };
    return c.json(body);
  })
  .put("/:schema", async (c) => {
    const name = nameParam(c, "schema", STATION_NAME_PATTERN);
    requireSchema(c, name);
    const raw = await readJson(c, v.unknown(), { maxBytes: MAX_REQUEST_BYTES });
    const request = unwrapValidation(PutSchemaRequestSchema, putSchemaRequestOf(raw));
    const format = request.format ?? SchemaFormat.JsonSchema;
    const checked = unwrap(checkSchemaVersion(format, request.schema, request.draft));
    const added = unwrap(
      await catalogStub(c.env).addSchema(name, {
        format,
        draft: checked.draft,
        text: checked.text,
        description: request.description ?? null,
        ...(request.compatibility ? { compatibility: request.compatibility } : {}),
      }),
    );
    // Stations following `latest` switch before we answer, so the next produce meets the new version.
    if (added.followers.length > 0) await notifyFollowers(c.env, added.followers, name, added.stored.version);
    const body: PutSchemaResponse = { ...toSchemaVersion(added.stored), created: added.created, compatibility: added.compatibility };
    return c.json(body, added.created ? 201 : 200);
  })
  .get("/:schema", async (c) => {
    const name = nameParam(c, "schema", STATION_NAME_PATTERN);
    requireSchema(c, name);
    const found = unwrap(await catalogStub(c.env).schemaVersions(name));
    const versions = found.versions.map(toSchemaVersion);
    const body: SchemaVersionsResponse = { name, latestVersion: versions.at(-1)!.version, compatibility: found.compatibility, versions };
    return c.json(body);
  })
  .get("/:schema/versions/:version", async (c) => {
    const name = nameParam(c, "schema", STATION_NAME_PATTERN);
    requireSchema(c, name);
    const version = unwrapValidation(SchemaVersionParamSchema, c.req.param("version"));
    return c.json(toSchemaVersion(unwrap(await catalogStub(c.env).getSchema(name, version))));
  });
