// The dashboard's pure pieces: routes from the hash, rates from throughput buckets, compact
// pretty JSON and figure formatting.
import { describe, expect, it } from "vitest";
import { prettyJson } from "../../client/dashboard/body-view";
import { formatBytes, formatDuration, produceRate } from "../../client/dashboard/format";
import { parseRoute, stationHref } from "../../client/dashboard/view";
import { THROUGHPUT_BUCKET_MS, THROUGHPUT_BUCKETS } from "../../shared/throughput";

describe("dashboard routes", () => {
  it("reads station, tab, rest and query from the hash, and falls back to the list", () => {
    expect(parseRoute("")).toEqual({ name: "stations" });
    expect(parseRoute("#/new")).toEqual({ name: "new-station" });
    const route = parseRoute("#/s/orders.eu/dls?group=billing&after=7");
    expect(route).toMatchObject({ name: "station", station: "orders.eu", tab: "dls", rest: [] });
    expect(route.name === "station" && route.params.get("group")).toBe("billing");
    expect(parseRoute("#/s/orders/webhooks/hook/edit")).toMatchObject({ tab: "webhooks", rest: ["hook", "edit"] });
    expect(parseRoute("#/s/orders/nonsense")).toMatchObject({ tab: "overview" });
    expect(parseRoute("#/s/%E0%A4%A")).toMatchObject({ name: "station", station: "%E0%A4%A" });
  });

  it("builds hrefs that parse back to the same station and tab", () => {
    for (const [station, tab] of [["orders", "overview"], ["a.b_c-d", "messages"], ["x", "config"]] as const) {
      expect(parseRoute(stationHref(station, tab))).toMatchObject({ station, tab });
    }
  });
});

describe("produce rate", () => {
  const buckets = (counts: number[], lastAt: number) =>
    counts.map((produced, i) => ({ at: lastAt - (counts.length - 1 - i) * THROUGHPUT_BUCKET_MS, produced, delivered: 0 }));

  it("counts the current partial bucket over the time it has run", () => {
    const now = 1_000_000_000_000;
    const lastAt = now - (now % THROUGHPUT_BUCKET_MS);
    const counts = Array(THROUGHPUT_BUCKETS).fill(0);
    counts[counts.length - 1] = 60;
    // 60 messages, 5 whole buckets before (50 s) + 5 s into the current one = 55 s.
    expect(produceRate(buckets(counts, lastAt), "produced", lastAt + 5000)).toBeCloseTo(60 / 55, 5);
  });

  it("is zero for a quiet station and for no buckets", () => {
    expect(produceRate([], "produced")).toBe(0);
    expect(produceRate(buckets(Array(THROUGHPUT_BUCKETS).fill(0), 0), "produced", 0)).toBe(0);
  });
});

describe("pretty JSON", () => {
  it("keeps short values on one line and breaks long ones, and parses back to the same value", () => {
    expect(prettyJson({ todo: "milk", qty: 2 }, "")).toBe('{ "todo": "milk", "qty": 2 }');
    const long = { items: Array.from({ length: 12 }, (_, i) => ({ sku: `sku-${i}`, qty: i })), note: "x".repeat(40) };
    const text = prettyJson(long, "");
    expect(text.split("\n").length).toBeGreaterThan(10);
    expect(JSON.parse(text)).toEqual(long);
    expect(prettyJson([], "")).toBe("[]");
    expect(prettyJson("<b>", "")).toBe('"<b>"');
  });
});

describe("figures", () => {
  it("formats bytes and durations as an operator reads them", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 * 1024 * 1024)).toBe("5.0 GiB");
    expect(formatDuration(250)).toBe("250 ms");
    expect(formatDuration(120_000)).toBe("2 min");
    expect(formatDuration(604_800_000)).toBe("7 d");
  });
});
