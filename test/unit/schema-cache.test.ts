// The station's schema cache without workerd: one catalog call per version however many
// produces wait, `latest` re-checked at most every LATEST_RECHECK_MS, pushes applied at once,
// the known version kept when the catalog is unreachable, and the failure report's choice.
import { describe, expect, it } from "vitest";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import { describeFailure } from "../../shared/schemas";
import type { StoredSchema } from "../../worker/catalog/schema-store";
import { LATEST_RECHECK_MS, SchemaCache } from "../../worker/station/schema";

const V1 = { type: "object", required: ["todo"] };
const V2 = { type: "object", required: ["todo", "done"] };

function fakeCatalog(versions: unknown[]) {
  const calls: Array<number | "latest"> = [];
  const state = { down: false };
  const fetch = async (name: string, version: number | "latest"): Promise<Result<StoredSchema>> => {
    calls.push(version);
    await new Promise((r) => setTimeout(r, 1));
    if (state.down) throw new Error("catalog reset");
    const n = version === "latest" ? versions.length : version;
    const schema = versions[n - 1];
    if (schema === undefined) return fail(ErrorCode.SchemaNotFound, "no such version");
    return ok({ name, version: n, draft: "2020-12", description: null, text: JSON.stringify(schema), createdAt: 0 });
  };
  return { fetch, calls, state, versions };
}

async function versionFor(cache: SchemaCache, version: number | "latest", now: number) {
  const result = await cache.schemaFor(() => ({ name: "todo", version }), now);
  if (!result.ok) throw new Error(result.error.code);
  return result.value!.ref.version;
}

describe("station schema cache", () => {
  it("asks the catalog once per version, however many produces wait for it", async () => {
    const catalog = fakeCatalog([V1]);
    const cache = new SchemaCache(catalog.fetch);
    const all = await Promise.all(Array.from({ length: 10 }, () => cache.schemaFor(() => ({ name: "todo", version: 1 }), 0)));
    expect(all.every((r) => r.ok && r.value!.check(JSON.stringify({ todo: 1 })) === null)).toBe(true);
    await cache.schemaFor(() => ({ name: "todo", version: 1 }), 10 * LATEST_RECHECK_MS);
    expect(catalog.calls).toEqual([1]);
  });

  it("re-checks latest only after LATEST_RECHECK_MS, and applies a pushed version at once", async () => {
    const catalog = fakeCatalog([V1]);
    const cache = new SchemaCache(catalog.fetch);
    expect(await versionFor(cache, "latest", 0)).toBe(1);
    catalog.versions.push(V2);
    expect(await versionFor(cache, "latest", LATEST_RECHECK_MS - 1)).toBe(1);
    expect(await versionFor(cache, "latest", LATEST_RECHECK_MS)).toBe(2);

    catalog.versions.push(V1);
    cache.learnLatest("todo", 3, LATEST_RECHECK_MS + 1);
    expect(await versionFor(cache, "latest", LATEST_RECHECK_MS + 2)).toBe(3);
    // An older notice arriving late changes nothing.
    cache.learnLatest("todo", 2, LATEST_RECHECK_MS + 3);
    expect(await versionFor(cache, "latest", LATEST_RECHECK_MS + 4)).toBe(3);
  });

  it("keeps enforcing the known version while the catalog is unreachable, and says unavailable without one", async () => {
    const catalog = fakeCatalog([V1]);
    const cache = new SchemaCache(catalog.fetch);
    expect(await versionFor(cache, "latest", 0)).toBe(1);
    catalog.state.down = true;
    expect(await versionFor(cache, "latest", LATEST_RECHECK_MS)).toBe(1);
    const cold = new SchemaCache(catalog.fetch);
    const refused = await cold.schemaFor(() => ({ name: "todo", version: "latest" }), 0);
    expect(refused.ok ? null : refused.error).toMatchObject({ code: "unavailable", retryAfterSeconds: 1 });
  });

  it("uses the reference in force after a wait, when the config changed meanwhile", async () => {
    const catalog = fakeCatalog([V1, V2]);
    const cache = new SchemaCache(catalog.fetch);
    let ref: { name: string; version: number | "latest" } | null = { name: "todo", version: 1 };
    const pending = cache.schemaFor(() => ref, 0);
    ref = { name: "todo", version: 2 };
    const result = await pending;
    expect(result.ok && result.value!.ref).toEqual({ name: "todo", version: 2 });
    ref = null;
    expect(await cache.schemaFor(() => ref, 0)).toEqual({ ok: true, value: null });
  });
});

describe("describeFailure", () => {
  it("names the deepest place, and lets a false schema's parent give the reason", () => {
    const failure = describeFailure([
      { instanceLocation: "#", keyword: "additionalProperties", keywordLocation: "#/additionalProperties", error: 'Property "x" does not match additional properties schema.' },
      { instanceLocation: "#/x", keyword: "false", keywordLocation: "#/x", error: "False boolean schema." },
    ]);
    expect(failure).toEqual({ path: "/x", keyword: "additionalProperties", schemaPath: "/additionalProperties", reason: 'Property "x" does not match additional properties schema.' });
    expect(describeFailure([]).path).toBe("");
  });
});
