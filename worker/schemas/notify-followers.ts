// After a new schema version: tells every station following the schema's `latest` to use it
// from its next produce on — every partition of it, since each checks its own produce. Best
// effort with bounded fan-out: a partition that misses the notice re-asks the catalog within
// LATEST_RECHECK_MS (worker/station/schema/cache.ts).
import type { Env } from "../env";
import { partitionCount, partitionStub } from "../partitions/objects";

/** Stations told at once. */
const NOTIFY_CONCURRENCY = 8;

export async function notifyFollowers(env: Env, stations: readonly string[], name: string, version: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < stations.length) {
      const station = stations[next++]!;
      try {
        const counted = await partitionCount(env, station);
        const partitions = counted.ok ? counted.value : 1;
        await Promise.all(Array.from({ length: partitions }, (_, partition) => partitionStub(env, station, partition).learnSchemaVersion(name, version)));
      } catch (error) {
        console.warn(`schema ${name} v${version}: could not notify station ${station}`, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(NOTIFY_CONCURRENCY, stations.length) }, worker));
}
