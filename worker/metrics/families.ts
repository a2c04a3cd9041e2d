// Turns station snapshots into Prometheus metric families: one family per metric name, each
// sample labelled by station (and group, webhook or partition). Counters end in `_total`.
import type { StationSnapshot } from "./gather";
import type { MetricFamily, MetricType, Sample } from "./exposition";

export function buildFamilies(snapshots: readonly StationSnapshot[], omittedStations: number): MetricFamily[] {
  const families: MetricFamily[] = [];
  const family = (name: string, type: MetricType, help: string, samples: Sample[]) => families.push({ name, type, help, samples });
  const live = snapshots.flatMap((s) => (s.info ? [s.info] : []));
  const perStation = (pick: (info: (typeof live)[number]) => number): Sample[] =>
    live.map((info) => ({ labels: { station: info.name }, value: pick(info) }));
  const groups = live.flatMap((info) => info.groups.map((group) => ({ station: info.name, group })));
  const perGroup = (pick: (group: (typeof groups)[number]["group"]) => number): Sample[] =>
    groups.map(({ station, group }) => ({ labels: { station, group: group.name }, value: pick(group) }));

  family("waystation_stations", "gauge", "Stations reported by this scrape.", [{ labels: {}, value: snapshots.length }]);
  family("waystation_metrics_stations_omitted", "gauge", "Stations left out of this scrape (over the per-scrape bound).", [
    { labels: {}, value: omittedStations },
  ]);
  family(
    "waystation_station_up",
    "gauge",
    "1 if the station answered this scrape, 0 if not.",
    snapshots.map((s) => ({ labels: { station: s.name }, value: s.info ? 1 : 0 })),
  );
  family("waystation_station_messages", "gauge", "Messages stored in the station now.", perStation((i) => i.stats.messages));
  family("waystation_station_bytes", "gauge", "Bytes stored in the station now (bodies, headers, keys).", perStation((i) => i.stats.bytes));
  family("waystation_station_first_offset", "gauge", "Lowest offset still stored.", perStation((i) => i.stats.firstOffset));
  family("waystation_station_last_offset", "gauge", "Highest offset ever assigned (0 before the first message).", perStation((i) => i.stats.lastOffset));
  family("waystation_station_produced_total", "counter", "Messages ever appended to the station's log.", perStation((i) => i.stats.produced));
  family(
    "waystation_station_delivered_total",
    "counter",
    "Messages ever handed out to consumers and webhook endpoints (each redelivery counts).",
    perStation((i) => i.stats.delivered),
  );
  family("waystation_station_dead_letters", "gauge", "Dead letters stored in the station's DLS now.", perStation((i) => i.stats.deadLetters));
  family("waystation_group_lag", "gauge", "Messages not yet handed out to the group.", perGroup((g) => g.lag));
  family("waystation_group_pending", "gauge", "Messages leased to the group's consumers now.", perGroup((g) => g.pending));
  family("waystation_group_ack_floor", "gauge", "Every offset at or below it is acked by the group.", perGroup((g) => g.ackFloor));
  family("waystation_group_dead_letters", "gauge", "Dead letters the group gave up on, stored now.", perGroup((g) => g.deadLetters));

  // Partitioned stations only (an unpartitioned one is its station series): each partition and its share of what the station produced.
  const parts = live.flatMap((info) =>
    info.partitions && info.partitions.length > 1 ? info.partitions.map((part) => ({ station: info.name, total: info.stats.produced, part })) : [],
  );
  const perPartition = (pick: (entry: (typeof parts)[number]) => number): Sample[] =>
    parts.map((entry) => ({ labels: { station: entry.station, partition: String(entry.part.partition) }, value: pick(entry) }));
  family("waystation_partition_messages", "gauge", "Messages stored in the partition now.", perPartition(({ part }) => part.stats.messages));
  family("waystation_partition_bytes", "gauge", "Bytes stored in the partition now (bodies, headers, keys).", perPartition(({ part }) => part.stats.bytes));
  family("waystation_partition_last_offset", "gauge", "Highest offset the partition ever assigned.", perPartition(({ part }) => part.stats.lastOffset));
  family("waystation_partition_produced_total", "counter", "Messages ever appended to the partition's log.", perPartition(({ part }) => part.stats.produced));
  family(
    "waystation_partition_share",
    "gauge",
    "The partition's share of the messages ever produced to its station (0 to 1; 1/partitions when keys spread evenly): the skew.",
    perPartition(({ part, total }) => (total === 0 ? 0 : part.stats.produced / total)),
  );

  const endpoints = snapshots.flatMap((s) => (s.info ? s.webhooks.map((w) => ({ station: s.name, w })) : []));
  const perEndpoint = (pick: (w: (typeof endpoints)[number]["w"]) => number): Sample[] =>
    endpoints.map(({ station, w }) => ({ labels: { station, webhook: w.name }, value: pick(w) }));
  family("waystation_webhook_enabled", "gauge", "1 if the endpoint is enabled, 0 if disabled.", perEndpoint((w) => (w.enabled ? 1 : 0)));
  family("waystation_webhook_delivered_total", "counter", "Messages the endpoint accepted (a 2xx in time).", perEndpoint((w) => w.health.delivered));
  family(
    "waystation_webhook_dead_lettered_total",
    "counter",
    "Messages that failed their last retry to the endpoint and went to the DLS.",
    perEndpoint((w) => w.health.deadLettered),
  );
  family(
    "waystation_webhook_consecutive_failures",
    "gauge",
    "Failed attempts in a row since the endpoint's last success (0 when healthy).",
    perEndpoint((w) => w.health.consecutiveFailures),
  );
  family("waystation_webhook_lag", "gauge", "Messages of the log the endpoint has not taken yet.", perEndpoint((w) => w.cursor.lag));
  family("waystation_webhook_pending", "gauge", "Messages being sent to the endpoint or waiting for a retry.", perEndpoint((w) => w.cursor.pending));
  family(
    "waystation_webhook_last_success_timestamp_seconds",
    "gauge",
    "When the endpoint last accepted a message, in Unix seconds (0 if never).",
    perEndpoint((w) => (w.health.lastSuccessAt ?? 0) / 1000),
  );
  return families;
}
