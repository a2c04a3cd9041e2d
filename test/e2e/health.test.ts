import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, removeStateDir, startWorker } from "./wrangler-dev";

describe("wrangler dev", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startWorker();
  });
  afterAll(async () => {
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  it("serves /healthz and refuses /v1 without a token", async () => {
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${worker.url}/v1/stations`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });
});
