// After a new schema version: tells every station following the schema's `latest` to use it
// from its next produce on. Best effort with bounded fan-out: a station that misses the notice
// re-asks the catalog within LATEST_RECHECK_MS (worker/station/schema-cache.ts).
import type { Env } from "../env";
import { stationStub } from "../stubs";

/** Stations told at once. */
const NOTIFY_CONCURRENCY = 8;

export async function notifyFollowers(env: Env, stations: readonly string[], name: string, version: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < stations.length) {
      const station = stations[next++]!;
      try {
        await stationStub(env, station).learnSchemaVersion(name, version);
      } catch (error) {
        console.warn(`schema ${name} v${version}: could not notify station ${station}`, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(NOTIFY_CONCURRENCY, stations.length) }, worker));
}
