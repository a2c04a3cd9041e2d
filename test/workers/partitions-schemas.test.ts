// Schemas on a partitioned station: each partition checks its own produce, and a new version of
// a followed schema reaches every partition at once (worker/schemas/notify-followers.ts).
import { describe, expect, it } from "vitest";
import { produce } from "./helpers";
import { keyIn } from "./partitions-helpers";
import { addVersion, stationWithSchema, TODO_V1, TODO_V2, uniqueSchema } from "./schemas-helpers";

describe("schemas of a partitioned station", () => {
  it("enforces a new latest version on every partition from the produce after its PUT", async () => {
    const schema = uniqueSchema();
    await addVersion(schema, TODO_V1);
    const station = await stationWithSchema(schema, "latest", { partitions: 3 });
    const keys = [0, 1, 2].map((partition) => keyIn(partition, 3, "s"));
    // Every partition has looked at v1 (and would not ask the catalog again for a while on its own).
    for (const key of keys) expect((await produce(station, { messages: [{ key, body: { todo: "a" } }] })).status).toBe(200);
    expect(await addVersion(schema, TODO_V2, "none")).toBe(2);
    for (const [partition, key] of keys.entries()) {
      const refused = await produce(station, { messages: [{ key, body: { todo: "b" } }] });
      expect(refused.status, `partition ${partition}`).toBe(422);
      expect(refused.body.error.schema).toEqual({ name: schema, version: 2 });
      const stored = await produce(station, { messages: [{ key, body: { todo: "b", done: true } }] });
      expect(stored.status).toBe(200);
      expect(stored.body.results[0].partition).toBe(partition);
    }
  });
});
