// The throughput chart: produced (area) and delivered (line) per bucket over the station's
// window, drawn as SVG that scales to its box. Also the sparkline of the stations list.
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
    svg("path", { d: areaPath(produced, top), class: "area-produced" }),
    svg("path", { d: linePath(produced, top), class: "line-produced", "vector-effect": "non-scaling-stroke" }),
    svg("path", { d: linePath(delivered, top), class: "line-delivered", "vector-effect": "non-scaling-stroke" }),
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
