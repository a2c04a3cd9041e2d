// Percentiles, medians with their spread, and number formatting for the report.

/** Nearest-rank percentile of unsorted samples (p in 0..100); NaN when there are none. */
export function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Median, min and max of per-run figures. */
export function spread(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, runs: 0 };
  return { median: percentile(finite, 50), min: Math.min(...finite), max: Math.max(...finite), runs: finite.length };
}

/** A rate like 12,345 (or 1.23 below 10). */
export function formatRate(value) {
  if (!Number.isFinite(value)) return "–";
  if (value >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toPrecision(3);
}

/** Milliseconds with 2–3 significant digits. */
export function formatMs(value) {
  if (!Number.isFinite(value)) return "–";
  if (value >= 100) return Math.round(value).toString();
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "–";
}

/** "12,345 (11,900–12,800)": the median of the runs and their range. */
export function formatSpread(s, format = formatRate) {
  if (!Number.isFinite(s.median)) return "–";
  return s.runs > 1 ? `${format(s.median)} (${format(s.min)}–${format(s.max)})` : format(s.median);
}
