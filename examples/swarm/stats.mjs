/** Nearest-rank percentile of a list of numbers (ms); 0 for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** `{ p50, p99, max }` rounded to 0.1 ms. */
export function summary(values) {
  const r = (x) => Math.round(x * 10) / 10;
  return { p50: r(percentile(values, 50)), p99: r(percentile(values, 99)), max: r(values.length ? Math.max(...values) : 0) };
}
