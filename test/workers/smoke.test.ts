import { describe, expect, it } from "vitest";
import { api, createStation, produce } from "./helpers";

describe("smoke", () => {
  it("serves /healthz without a token", async () => {
    const res = await api("GET", "/healthz", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
  });
  it("produces and reads back", async () => {
    const station = await createStation();
    const res = await produce(station, { producer: "p1", messages: [{ seq: 1, body: { a: 1 } }] });
    expect(res.body).toEqual({ results: [{ seq: 1, partition: 0, offset: 1, duplicate: false }], partitions: 1 });
  });
});
