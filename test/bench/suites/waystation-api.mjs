// The few Waystation calls the benchmark makes outside its timed loops, and its routes as the
// shared HTTP workloads see them.
import { request, requestJson } from "../lib/http.mjs";

export async function createStation(worker, name) {
  const res = await request("PUT", `${worker.url}/v1/stations/${name}`, { body: "{}", token: worker.token });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT station ${name}: ${res.status} ${res.text}`);
}

/** A consumer group reading the station from its first message (a fetch from an unknown group is refused). */
export async function createGroup(worker, station, group) {
  await requestJson("PUT", `${worker.url}/v1/stations/${station}/groups/${group}`, { json: { start: "earliest" }, token: worker.token, expectStatus: 201 });
}

export function waystationAdapter(worker) {
  return {
    url: worker.url,
    token: worker.token,
    createStation: (name) => createStation(worker, name),
    producePath: (station) => `/v1/stations/${station}/messages`,
    readPath: (station, from, limit) => `/v1/stations/${station}/messages?from=${from}&limit=${limit}`,
  };
}
