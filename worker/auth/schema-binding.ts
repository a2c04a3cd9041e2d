// Who may bind a station to a schema: binding makes the schema's text readable to the station's
// producers (`GET …/schema`), so it needs the right to that schema (a manage grant whose
// `schemas` — or, without them, `stations` — patterns name it), not only to the station. A
// station already bound to that schema keeps it when its other settings change.
import type { Context } from "hono";
import { ErrorCode } from "../../shared/errors";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";
import { stationStub } from "../stubs";

/** Throws 403 unless the caller may bind `station` to `schema` (checked before the schema is looked up). */
export async function requireSchemaBinding(c: Context<AppBindings>, station: string, schema: string): Promise<void> {
  if (c.get("principal").canSchema(schema)) return;
  // Unchanged binding (the admin bound it): a tenant may still change the station's other settings.
  const current = await stationStub(c.env, station).info();
  if (current.ok && current.value.config.schema?.name === schema) return;
  throw new ApiError(ErrorCode.Forbidden, `This token may not bind a station to schema ${schema}: it needs a manage grant whose schemas (or stations) name it`, {
    action: "manage",
    station,
    schema,
  });
}
