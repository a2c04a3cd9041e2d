// The throughput chart: produced and delivered per bucket over the station's window, as pairs
// of bars (a bucket is a count, not a point on a curve), drawn as SVG that scales to its box.
// Also the sparkline of the stations list.
import type { ThroughputBucket } from "../../shared/throughput";
import { THROUGHPUT_BUCKET_MS } from "../../shared/throughput";
import { h, svg } from "./dom";
import { formatCount, formatDuration } from "./format";

const WIDTH = 600;
const HEIGHT = 140;

export function renderThroughputChart(buckets: readonly ThroughputBucket[]): HTMLElement {
  const peak = Math.max(1, ...buckets.map((b) => Math.max(b.produced, b.delivered)));
  const top = niceCeiling(peak);
  const produced = buckets.map((b) => b.produced);
  const delivered = buckets.map((b) => b.delivered);
  const window = buckets.length * THROUGHPUT_BUCKET_MS;
  const totalProduced = produced.reduce((a, b) => a + b, 0);
  const totalDelivered = delivered.reduce((a, b) => a + b, 0);

  const grid = [0.25, 0.5, 0.75].map((f) =>
    svg("line", { x1: 0, x2: WIDTH, y1: HEIGHT * f, y2: HEIGHT * f, class: "grid", "vector-effect": "non-scaling-stroke" }),
  );
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", class: "chart-svg", role: "img", "aria-label": "Throughput" },
    ...grid,
    svg("path", { d: barsPath(produced, top, 0), class: "bar-produced" }),
    svg("path", { d: barsPath(delivered, top, 1), class: "bar-delivered" }),
  );
  const bucketSeconds = THROUGHPUT_BUCKET_MS / 1000;
  return h(
    "figure",
    { class: "chart" },
    h(
      "figcaption",
      {},
      h("span", { class: "legend produced" }, `Produced ${formatCount(totalProduced)}`),
      h("span", { class: "legend delivered" }, `Delivered ${formatCount(totalDelivered)}`),
      h("span", { class: "muted" }, `per ${bucketSeconds} s, last ${formatDuration(window)}`),
    ),
    h(
      "div",
      { class: "chart-body" },
      h("div", { class: "y-axis" }, h("span", {}, formatCount(top)), h("span", {}, formatCount(top / 2)), h("span", {}, "0")),
      h("div", { class: "plot" }, chart),
    ),
    h("div", { class: "x-axis" }, h("span", {}, `${formatDuration(window)} ago`), h("span", {}, "now")),
  );
}

/** A small line of produced counts for a table cell. */
export function renderSparkline(buckets: readonly ThroughputBucket[]): SVGElement {
  const values = buckets.map((b) => b.produced);
  const top = Math.max(1, ...values);
  return svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", class: "sparkline", "aria-hidden": "true" },
    svg("path", { d: areaPath(values, top), class: "area-produced" }),
    svg("path", { d: linePath(values, top), class: "line-produced", "vector-effect": "non-scaling-stroke" }),
  );
}

/** One path of bars: bucket i spans WIDTH/n; `slot` 0 or 1 puts the bar in its left or right half. */
function barsPath(values: readonly number[], top: number, slot: 0 | 1): string {
  const step = WIDTH / Math.max(1, values.length);
  const gap = step * 0.12;
  const barWidth = (step - 3 * gap) / 2;
  return values
    .map((value, i) => {
      if (value <= 0) return "";
      const height = Math.max(2, (value / top) * (HEIGHT - 4));
      const x = i * step + gap + slot * (barWidth + gap);
      return `M${round(x)} ${HEIGHT} v${-round(height)} h${round(barWidth)} v${round(height)} Z`;
    })
    .join("");
}

function points(values: readonly number[], top: number): Array<[number, number]> {
  const step = values.length > 1 ? WIDTH / (values.length - 1) : WIDTH;
  return values.map((value, i) => [round(i * step), round(HEIGHT - (value / top) * (HEIGHT - 4) - 1)]);
}

function linePath(values: readonly number[], top: number): string {
  return points(values, top)
    .map(([x, y], i) => `${i === 0 ? "M" : "L"}${x} ${y}`)
    .join(" ");
}

function areaPath(values: readonly number[], top: number): string {
  const pts = points(values, top);
  if (pts.length === 0) return "";
  return `${linePath(values, top)} L${pts.at(-1)![0]} ${HEIGHT} L${pts[0]![0]} ${HEIGHT} Z`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** 1, 2, 5 × 10^n at or above `n`, so axis labels read as round numbers. */
function niceCeiling(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}
