// GET /metrics against the API's own figures, parsed by a strict exposition parser; its
// per-token rate limit and short cache; the station's throughput ring; and no-store on API answers.
import { exports } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { THROUGHPUT_BUCKET_MS, THROUGHPUT_BUCKETS } from "../../shared/throughput";
import { renderExposition } from "../../worker/metrics/exposition";
import { METRICS_CACHE_MS } from "../../worker/metrics/scrape-cache";
import { ADMIN_TOKEN, api, createStation, produce, seqBatch } from "./helpers";
import { ack, stationStub, take } from "./groups-helpers";
import { parsePrometheusText, type ParsedFamily } from "./prometheus-text";
import { grantToken } from "./token-helpers";
import { type Receiver, getWebhook, mockReceiver, putWebhook, waitFor } from "./webhook-helpers";

const BASE = "https://waystation.test";

async function families(token: string = ADMIN_TOKEN) {
  const res = await scrape(token);
  expect(res.status, res.text).toBe(200);
  return parsePrometheusText(res.text);
}

async function scrape(token: string | null = ADMIN_TOKEN) {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const res: Response = await (exports as any).default.fetch(new Request(`${BASE}/metrics`, { headers }));
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function valueOf(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number | undefined {
  const family = families.get(name);
  if (!family) throw new Error(`No family ${name}`);
  const want = JSON.stringify(Object.entries(labels).sort());
  return family.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}

describe("GET /metrics", () => {
  it("answers strict Prometheus text with HELP and TYPE for every family, never cached", async () => {
    await createStation();
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const families = parsePrometheusText(res.text);
    for (const name of [
      "waystation_stations",
      "waystation_station_up",
      "waystation_station_messages",
      "waystation_station_bytes",
      "waystation_station_produced_total",
      "waystation_station_delivered_total",
      "waystation_station_dead_letters",
      "waystation_group_lag",
      "waystation_group_pending",
    ]) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(family!.help, name).toBeTruthy();
      expect(family!.type, name).toMatch(/^(counter|gauge)$/);
      if (family!.type === "counter") expect(name).toMatch(/_total$/);
    }
  });

  it("reports each station's figures exactly as the API describes them", async () => {
    const name = await createStation({ retention: { maxMessages: 100 } });
    await produce(name, { producer: "p", messages: seqBatch(1, 7, (seq) => ({ n: seq, pad: "x".repeat(seq * 10) })) });
    await produce(name, { producer: "p", messages: seqBatch(6, 2) }); // duplicates: not counted again
    const info = (await api("GET", `/v1/stations/${name}`)).body;
    const families = parsePrometheusText((await scrape()).text);
    const labels = { station: name };
    expect(valueOf(families, "waystation_station_up", labels)).toBe(1);
    expect(valueOf(families, "waystation_station_messages", labels)).toBe(info.stats.messages);
    expect(valueOf(families, "waystation_station_messages", labels)).toBe(7);
    expect(valueOf(families, "waystation_station_bytes", labels)).toBe(info.stats.bytes);
    expect(valueOf(families, "waystation_station_first_offset", labels)).toBe(info.stats.firstOffset);
    expect(valueOf(families, "waystation_station_last_offset", labels)).toBe(info.stats.lastOffset);
    expect(valueOf(families, "waystation_station_produced_total", labels)).toBe(info.stats.produced);
    expect(valueOf(families, "waystation_station_delivered_total", labels)).toBe(info.stats.delivered);
    expect(valueOf(families, "waystation_station_dead_letters", labels)).toBe(info.stats.deadLetters);
    for (const group of info.groups) {
      expect(valueOf(families, "waystation_group_lag", { station: name, group: group.name })).toBe(group.lag);
      expect(valueOf(families, "waystation_group_pending", { station: name, group: group.name })).toBe(group.pending);
    }
    const listed = (await api("GET", "/v1/stations")).body.stations.length;
    expect(valueOf(families, "waystation_stations", {})).toBe(listed);
  });

  it("reports each group's lag, pending, ack floor and dead letters as the API does", async () => {
    const name = await createStation();
    await produce(name, { producer: "p", messages: seqBatch(1, 10) });
    // audit gives up fast: its one unacked delivery becomes a dead letter.
    expect((await api("PUT", `/v1/stations/${name}/groups/audit`, { ackTimeoutMs: 100, maxDeliveries: 1 })).status).toBe(201);
    expect((await api("PUT", `/v1/stations/${name}/groups/billing`, {})).status).toBe(201); // only PUT creates a group
    const leased = await take(name, "billing", "c1", 4);
    await ack(name, "billing", [leased[0].offset, leased[1].offset]);
    await take(name, "audit", "c2", 1); // never acked: its lease runs out, and with maxDeliveries 1 it is dead
    const info = await waitFor(async () => {
      await runDurableObjectAlarm(stationStub(name)); // the lease's end, once it is due
      const body = (await api("GET", `/v1/stations/${name}`)).body;
      return body.stats.deadLetters === 1 ? body : null;
    }, 10_000, "audit's lease to end in the DLS");
    const billing = info.groups.find((g: any) => g.name === "billing");
    const audit = info.groups.find((g: any) => g.name === "audit");
    expect(billing).toMatchObject({ ackFloor: 2, pending: 2, lag: 6 });
    expect(audit.deadLetters).toBe(1);
    const scraped = await families();
    for (const group of [billing, audit]) {
      const labels = { station: name, group: group.name };
      expect(valueOf(scraped, "waystation_group_lag", labels)).toBe(group.lag);
      expect(valueOf(scraped, "waystation_group_pending", labels)).toBe(group.pending);
      expect(valueOf(scraped, "waystation_group_ack_floor", labels)).toBe(group.ackFloor);
      expect(valueOf(scraped, "waystation_group_dead_letters", labels)).toBe(group.deadLetters);
    }
    expect(valueOf(scraped, "waystation_station_dead_letters", { station: name })).toBe(info.stats.deadLetters);
    expect(info.stats.deadLetters).toBe(1);
    expect(valueOf(scraped, "waystation_station_delivered_total", { station: name })).toBe(info.stats.delivered);
    expect(info.stats.delivered).toBe(billing.delivered + audit.delivered);
  });

  it("forgets a deleted station", async () => {
    const name = await createStation();
    await api("DELETE", `/v1/stations/${name}`);
    const families = parsePrometheusText((await scrape()).text);
    expect(valueOf(families, "waystation_station_up", { station: name })).toBeUndefined();
  });

  it("refuses a scrape without a token or with an unknown one", async () => {
    const none = await scrape(null);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text).error.code).toBe("unauthorized");
    const unknown = await scrape("not-the-admin-token-at-all");
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.text).error.code).toBe("unauthorized");
  });
});

describe("GET /metrics for webhook endpoints", () => {
  let receiver: Receiver | null = null;
  afterEach(() => {
    receiver?.restore();
    receiver = null;
  });

  it("counts an endpoint's failures and dead letters as its health shows them", async () => {
    receiver = mockReceiver();
    receiver.reply(() => new Response("down for maintenance", { status: 500 }));
    const name = await createStation();
    const put = await putWebhook(name, "hook", { url: "http://127.0.0.1:9/hook", retry: { scheduleMs: [] } });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    await produce(name, { producer: "p", messages: seqBatch(1, 2) });
    const health = await waitFor(async () => {
      const w = await getWebhook(name, "hook");
      return w.health.deadLettered === 2 ? w : null;
    }, 10_000, "both messages dead-lettered");
    const scraped = await families();
    const labels = { station: name, webhook: "hook" };
    expect(valueOf(scraped, "waystation_webhook_dead_lettered_total", labels)).toBe(2);
    expect(valueOf(scraped, "waystation_webhook_consecutive_failures", labels)).toBe(health.health.consecutiveFailures);
    expect(health.health.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(valueOf(scraped, "waystation_webhook_delivered_total", labels)).toBe(0);
    expect(valueOf(scraped, "waystation_webhook_enabled", labels)).toBe(1);
    expect(valueOf(scraped, "waystation_station_dead_letters", { station: name })).toBe(2);
  });
});

describe("GET /metrics with scoped tokens", () => {
  it("reports only the stations a token may manage", async () => {
    const mine = await createStation({}, `metrics-mine-${Date.now().toString(36)}`);
    const other = await createStation();
    const token = await grantToken([mine], ["manage"]);
    const scraped = await families(token);
    expect(valueOf(scraped, "waystation_station_up", { station: mine })).toBe(1);
    expect(valueOf(scraped, "waystation_station_up", { station: other })).toBeUndefined();
    expect(valueOf(scraped, "waystation_stations", {})).toBe(1);
  });

  it("refuses a token that may not manage any station", async () => {
    const name = await createStation();
    const token = await grantToken([name], ["produce", "consume"]);
    const res = await scrape(token);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).error.code).toBe("forbidden");
  });
});

describe("GET /metrics under load", () => {
  it("is rate-limited per token like /v1", async () => {
    const name = await createStation();
    const token = await grantToken([name], ["manage"], { claims: { limits: { requestsPerSecond: 1 } } });
    const statuses: number[] = [];
    let limited: { headers: Headers; text: string } | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await scrape(token);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    expect(JSON.parse(limited!.text).error).toMatchObject({ code: "rate_limited", scope: "token" });
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("serves a scrape again for a few seconds instead of asking every station each time", { timeout: 20_000 }, async () => {
    const name = await createStation({}, `metrics-cached-${Date.now().toString(36)}`);
    await createStation(); // so that the admin's list of stations differs from the token's
    const token = await grantToken([name], ["manage"]);
    await produce(name, { messages: [{ body: { n: 1 } }] });
    const first = await families(token);
    expect(valueOf(first, "waystation_station_messages", { station: name })).toBe(1);
    await produce(name, { messages: [{ body: { n: 2 } }] });
    // Within METRICS_CACHE_MS the same stations get the same text: the new message is not counted yet.
    const again = await families(token);
    expect(valueOf(again, "waystation_station_messages", { station: name })).toBe(1);
    // Another set of stations is another scrape (a token never sees what another's list holds).
    const wider = await families();
    expect(valueOf(wider, "waystation_station_messages", { station: name })).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, METRICS_CACHE_MS + 100));
    expect(valueOf(await families(token), "waystation_station_messages", { station: name })).toBe(2);
  });
});

describe("exposition format", () => {
  it("escapes label values and help text so they parse back unchanged", () => {
    const tricky = 'a"b\\c\nd}e,f="g';
    const text = renderExposition([
      { name: "t_gauge", type: "gauge", help: "line one\nback\\slash", samples: [{ labels: { station: tricky, group: "" }, value: -1.5 }] },
      { name: "t_total", type: "counter", help: "c", samples: [{ labels: {}, value: 3 }] },
      { name: "t_empty", type: "gauge", help: "no samples", samples: [] },
    ]);
    const families = parsePrometheusText(text);
    expect(families.get("t_gauge")!.help).toBe("line one\nback\\slash");
    expect(families.get("t_gauge")!.samples[0]).toEqual({ name: "t_gauge", labels: { station: tricky, group: "" }, value: -1.5 });
    expect(families.get("t_total")!.type).toBe("counter");
    expect(families.get("t_empty")!.samples).toEqual([]);
  });

  it("refuses to render one family name twice", () => {
    const family = { name: "dup", type: "gauge" as const, help: "h", samples: [] };
    expect(() => renderExposition([family, family])).toThrow(/twice/);
  });

  it("the test parser refuses a family split in two blocks and a sample before its TYPE", () => {
    expect(() => parsePrometheusText("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n")).toThrow(/two blocks/);
    expect(() => parsePrometheusText("a 1\n# TYPE a gauge\n")).toThrow(/TYPE after samples/);
    expect(() => parsePrometheusText('a{x="\\q"} 1\n')).toThrow(/escape/);
  });
});

describe("station throughput", () => {
  it("counts produced messages in the current bucket, duplicates and refused batches not", async () => {
    const name = await createStation();
    await produce(name, { producer: "p", messages: seqBatch(1, 5) });
    await produce(name, { producer: "p", messages: seqBatch(4, 3) }); // 4, 5 duplicates; 6 new
    await produce(name, { producer: "p", messages: seqBatch(9, 1) }); // seq_gap: refused
    const { throughput } = (await api("GET", `/v1/stations/${name}`)).body;
    expect(throughput).toHaveLength(THROUGHPUT_BUCKETS);
    throughput.forEach((bucket: any, i: number) => {
      expect(bucket.at % THROUGHPUT_BUCKET_MS).toBe(0);
      if (i > 0) expect(bucket.at - throughput[i - 1].at).toBe(THROUGHPUT_BUCKET_MS);
    });
    const total = throughput.reduce((sum: number, b: any) => sum + b.produced, 0);
    expect(total).toBe(6);
    expect(throughput.at(-1).at).toBeLessThanOrEqual(Date.now());
  });

  it("keeps its buckets across an object restart", async () => {
    const name = await createStation();
    await produce(name, { producer: "p", messages: seqBatch(1, 4) });
    await evictDurableObject(stationStub(name));
    const { throughput } = (await api("GET", `/v1/stations/${name}`)).body;
    expect(throughput.reduce((sum: number, b: any) => sum + b.produced, 0)).toBe(4);
  });
});

describe("API answers", () => {
  it("are marked no-store, so no cache keeps what a token read", async () => {
    const name = await createStation();
    expect((await api("GET", `/v1/stations/${name}`)).headers.get("cache-control")).toBe("no-store");
    expect((await api("GET", "/v1/stations")).headers.get("cache-control")).toBe("no-store");
    expect((await api("GET", "/v1/stations", undefined, { token: null })).headers.get("cache-control")).toBe("no-store");
  });
});
