// Gathers what /metrics reports: each station's info from its own object, a bounded number of
// stations at a time (Workers allow 6 open connections per invocation), at most
// MAX_METRICS_STATIONS per scrape. A station that fails to answer is reported down, not fatal.
// A partitioned station's other partitions are asked too, within MAX_METRICS_PARTITION_CALLS
// per scrape; past that bound a station is reported from partition 0 alone.
import type { StationInfo } from "../../shared/stations";
import { type WebhookInfo, webhookOfGroup } from "../../shared/webhooks";
import type { Env } from "../env";
import { describeFrom } from "../partitions/station-lifecycle";
import { stationStub } from "../stubs";

/** Stations asked at once. */
export const METRICS_CONCURRENCY = 6;
/** Most stations one scrape reports; the rest are counted in `waystation_metrics_stations_omitted`. */
export const MAX_METRICS_STATIONS = 500;
/** Calls to partitions above 0 one scrape may make, over every station. */
export const MAX_METRICS_PARTITION_CALLS = 500;

export interface StationSnapshot {
  name: string;
  /** Null when the station did not answer (or was deleted between the list and the ask). */
  info: StationInfo | null;
  /** The station's webhook endpoints (asked only when its groups show some). */
  webhooks: WebhookInfo[];
}

export async function gatherSnapshots(env: Env, names: readonly string[]): Promise<StationSnapshot[]> {
  let partitionCalls = MAX_METRICS_PARTITION_CALLS;
  return mapBounded(names, METRICS_CONCURRENCY, async (name) => {
    try {
      const stub = stationStub(env, name);
      const result = await stub.info();
      if (!result.ok) return { name, info: null, webhooks: [] };
      let info: StationInfo = result.value;
      const later = (info.config.partitions ?? 1) - 1;
      if (later > 0 && later <= partitionCalls) {
        partitionCalls -= later;
        const described = await describeFrom(env, name, info);
        if (described.ok) info = described.value;
      }
      const hasWebhooks = info.groups.some((g) => webhookOfGroup(g.name) !== null);
      const webhooks = hasWebhooks ? await stub.listWebhooks() : null;
      return { name, info, webhooks: webhooks?.ok ? webhooks.value.webhooks : [] };
    } catch (error) {
      console.error(`metrics: station ${name} did not answer`, error);
      return { name, info: null, webhooks: [] };
    }
  });
}

/** Maps `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
