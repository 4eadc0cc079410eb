/**
 * Percentiles as numpy's default (`method="linear"`): the value at rank p/100 * (n - 1) of the sorted
 * sample, interpolated between its neighbours. Used wherever the product reports p50 / p95 / p99
 * (usage analytics, benchmarks, the bench/ scripts), so that one figure means the same everywhere.
 */

/** The p-th percentile (0-100) of the values; null for an empty sample. The input is not modified. */
export function percentile(values: readonly number[], p: number): number | null {
  return percentilesOf(values, [p])[0] ?? null;
}

/** Several percentiles of one sample with a single sort. */
export function percentilesOf(values: readonly number[], ps: readonly number[]): Array<number | null> {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return ps.map((p) => {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0-100, got ${p}`);
    if (sorted.length === 0) return null;
    const rank = (p / 100) * (sorted.length - 1);
    const low = Math.floor(rank);
    const high = Math.ceil(rank);
    const lowValue = sorted[low] as number;
    return lowValue + ((sorted[high] as number) - lowValue) * (rank - low);
  });
}

/** p50 / p95 / p99 of a sample (null when empty). */
export function summaryPercentiles(values: readonly number[]): {
  p50: number | null;
  p95: number | null;
  p99: number | null;
} {
  const [p50, p95, p99] = percentilesOf(values, [50, 95, 99]);
  return { p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
}
