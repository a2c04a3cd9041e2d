// The HTTP workloads Waystation and the bare Durable Object (the ceiling) both run, with the
// same autocannon load: produce of 1 and of 100 messages with and without producer + seq, read
// 100 by offset, and hello world (`/healthz`) at the bench's connections and at 1 connection.
// A system describes its routes (an adapter); the load is built here once for both.
import { produceLoad } from "../lib/http-produce.mjs";
import { okJson, runLoad } from "../lib/load.mjs";

/** [workload, label]; the order is the report's and the run's. */
export const HTTP_WORKLOADS = [
  ["produce.b1", "produce, 1 msg/request"],
  ["produce.b1.seq", "produce, 1 msg/request, producer + seq"],
  ["produce.b100", "produce, 100 msg/request"],
  ["produce.b100.seq", "produce, 100 msg/request, producer + seq"],
  ["read.b100", "read 100 by offset"],
  ["hello", "hello world: GET /healthz"],
  ["hello.c1", "hello world: GET /healthz, 1 connection (latency floor)"],
];

/**
 * @typedef {{url: string, token?: string, createStation(name: string): Promise<void>,
 *   producePath(station: string): string, readPath(station: string, from: number, limit: number): string}} Adapter
 */

/** @param {string} system @param {Adapter} adapter */
export function httpMeasurements(system, adapter, profile) {
  const base = { url: adapter.url, token: adapter.token, connections: profile.connections, seconds: profile.seconds };
  const produce = (batch, withSeq) => async (round) => {
    const station = `bench-b${batch}${withSeq ? "-seq" : ""}-r${round}-${Date.now().toString(36)}`;
    await adapter.createStation(station);
    return produceLoad({ ...base, path: adapter.producePath(station), batch, withSeq });
  };
  // One station filled once (untimed) for every round of the read workload.
  let readStation = null;
  const readFill = profile.readFill;
  const read = async () => {
    readStation ??= fillStation(adapter, `bench-read-${Date.now().toString(36)}`, readFill, profile.connections);
    const station = await readStation;
    let next = 0;
    return runLoad({
      ...base,
      requests: [
        {
          // Offsets walk the whole station, so reads are not all served from the same pages.
          setup: () => ({ method: "GET", path: adapter.readPath(station, ((next++ * 100) % (readFill - 100)) + 1, 100) }),
          onAnswer: (status, body) => {
            const answer = okJson(status, body, "read");
            if (answer.messages?.length !== 100) throw new Error(`read answered ${answer.messages?.length} messages, not 100`);
            return 100;
          },
        },
      ],
    });
  };
  const hello = (connections) => () => runLoad({ ...base, connections, requests: [{ method: "GET", path: "/healthz" }] });
  const runs = {
    "produce.b1": produce(1, false),
    "produce.b1.seq": produce(1, true),
    "produce.b100": produce(100, false),
    "produce.b100.seq": produce(100, true),
    "read.b100": read,
    hello: hello(profile.connections),
    "hello.c1": hello(1),
  };
  return HTTP_WORKLOADS.map(([workload]) => ({ id: `${system}.${workload}`, workload, run: runs[workload] }));
}

/** Creates a station and produces `count` messages into it in batches of 100 (not measured). */
export async function fillStation(adapter, station, count, connections) {
  await adapter.createStation(station);
  await produceLoad({ url: adapter.url, token: adapter.token, path: adapter.producePath(station), batch: 100, withSeq: false, connections: Math.min(4, connections), seconds: 600, maxRequests: Math.ceil(count / 100) });
  return station;
}
