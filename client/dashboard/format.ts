// How figures read: counts, bytes, rates, durations and times, all plain text.
import type { ThroughputBucket } from "../../shared/throughput";
import { THROUGHPUT_BUCKET_MS } from "../../shared/throughput";

const counts = new Intl.NumberFormat("en-US");

export function formatCount(n: number): string {
  return counts.format(n);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${trim(s)} s`;
  if (s < 3600) return `${trim(s / 60)} min`;
  if (s < 86400) return `${trim(s / 3600)} h`;
  return `${trim(s / 86400)} d`;
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function formatRate(perSecond: number): string {
  if (perSecond === 0) return "0/s";
  if (perSecond < 0.1) return `${(perSecond * 60).toFixed(1)}/min`;
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}/s`;
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatAgo(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * Messages per second over about the last minute: the current (partial) bucket and the five
 * before it, divided by the time they span, so a burst shows at once rather than 10 s later.
 */
export function produceRate(buckets: readonly ThroughputBucket[], field: "produced" | "delivered" = "produced", now = Date.now()): number {
  const recent = buckets.slice(-Math.round(60_000 / THROUGHPUT_BUCKET_MS));
  const current = recent.at(-1);
  if (!current) return 0;
  const intoCurrentMs = Math.min(THROUGHPUT_BUCKET_MS, Math.max(1000, now - current.at));
  const spanMs = (recent.length - 1) * THROUGHPUT_BUCKET_MS + intoCurrentMs;
  return recent.reduce((sum, b) => sum + b[field], 0) / (spanMs / 1000);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
