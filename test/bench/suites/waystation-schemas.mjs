// Produce throughput to a station with a typical JSON Schema attached (every body validated in
// the Station object), measured in the same run as the same shapes without one: issue 6 wants
// the ratio ≥ 0.8. The schema fits the benchmark's bodies (lib/payload.mjs), so all are stored.
import { checkProduceAnswer, measureHttpProduce } from "../lib/http-produce.mjs";
import { request } from "../lib/http.mjs";
import { produceRequestJson } from "../lib/payload.mjs";

/** What a typical event schema checks: required fields, types, bounds, nothing else allowed. */
export const BENCH_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["seq", "pad"],
  properties: {
    seq: { type: "integer", minimum: 1 },
    sentAtMs: { type: "integer", minimum: 0 },
    pad: { type: "string", minLength: 1, maxLength: 1024 },
  },
  additionalProperties: false,
};

const SCHEMA_NAME = "bench-event";
export const SCHEMA_SHAPES = [
  { batch: 1, concurrency: 4 },
  { batch: 100, concurrency: 4 },
];

async function putJson(worker, path, json) {
  const res = await request("PUT", `${worker.url}${path}`, { body: JSON.stringify(json), token: worker.token });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${res.text.slice(0, 300)}`);
}

/** `waystation.produce-schema.b{batch}.c{concurrency}`: compare with `waystation.produce.b….c…`. */
export function schemaMeasurements(worker, profile) {
  return SCHEMA_SHAPES.map(({ batch, concurrency }) => ({
    id: `waystation.produce-schema.b${batch}.c${concurrency}`,
    run: async (round) => {
      const station = `bench-schema-b${batch}-c${concurrency}-r${round}`;
      await putJson(worker, `/v1/schemas/${SCHEMA_NAME}`, { schema: BENCH_SCHEMA }); // idempotent after the first
      await putJson(worker, `/v1/stations/${station}`, { schema: { name: SCHEMA_NAME, version: "latest" } });
      return measureHttpProduce({
        url: `${worker.url}/v1/stations/${station}/messages`,
        token: worker.token,
        batch,
        concurrency,
        maxMs: profile.maxMs,
        maxMessages: profile.maxMessages,
        makeBody: produceRequestJson,
        check: checkProduceAnswer,
      });
    },
  }));
}
