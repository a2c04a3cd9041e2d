// /metrics on a partitioned station (docs/partitions.md, "Metrics"): each partition's figures
// with a `partition` label, and its share of the station's produced messages (the skew).
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createStation, produce } from "./helpers";
import { keyIn } from "./partitions-helpers";
import { parsePrometheusText } from "./prometheus-text";

async function scrapeFamilies() {
  const res: Response = await (exports as any).default.fetch(new Request("https://waystation.test/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

describe("metrics of a partitioned station", () => {
  it("reports each partition's messages and its share of the station's", async () => {
    const station = await createStation({ partitions: 4 });
    const plain = await createStation();
    // 1, 0, 3 and 4 messages into partitions 0..3.
    const counts = [1, 0, 3, 4];
    const messages = counts.flatMap((count, partition) => Array.from({ length: count }, (_, i) => ({ key: keyIn(partition, 4), body: i })));
    expect((await produce(station, { messages })).status).toBe(200);
    expect((await produce(plain, { messages: [{ body: 1 }] })).status).toBe(200);
    const families = await scrapeFamilies();
    const of = (name: string) => families.get(name)!.samples.filter((sample) => sample.labels.station === station);
    expect(families.get("waystation_partition_produced_total")!.type).toBe("counter");
    expect(of("waystation_partition_messages").map((s) => [s.labels.partition, s.value])).toEqual(counts.map((count, p) => [String(p), count]));
    expect(of("waystation_partition_share").map((s) => s.value)).toEqual(counts.map((count) => count / 8));
    expect(families.get("waystation_station_messages")!.samples.find((s) => s.labels.station === station)!.value).toBe(8);
    // An unpartitioned station is its station series alone.
    expect(families.get("waystation_partition_messages")!.samples.some((s) => s.labels.station === plain)).toBe(false);
  });
});
