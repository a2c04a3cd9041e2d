// The few Waystation calls the benchmark makes outside its timed loops.
import { request } from "../lib/http.mjs";

export async function createStation(worker, name) {
  const res = await request("PUT", `${worker.url}/v1/stations/${name}`, { body: "{}", token: worker.token });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT station ${name}: ${res.status} ${res.text}`);
}
