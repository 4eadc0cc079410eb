/**
 * Serving figures derived from two scrapes of an engine's /metrics: tokens per second, TTFT and TPOT
 * (mean, p50, p95) over the interval, queue depth, KV-cache usage, preemptions, prefix-cache hits.
 *
 * Which metric means what comes from data/engine-metrics.yaml (a map per engine), never from code.
 * Series are grouped by the model label, so two models behind one endpoint are never mixed; within a
 * model the other labels (engine index, finish reason, rank) are summed. A counter lower than
 * before means the engine restarted: its new value counts from zero (Prometheus' rate() does the
 * same), so a restart never produces a negative rate.
 */
import { z } from "zod";
import type { Exposition, Sample } from "./prom-text.js";

const Names = z.array(z.string().min(1));

export const EngineMetricMapSchema = z.object({
  source: z.string().url(),
  notes: z.string().optional(),
  /** Labels that name the served model, in order of preference; [] when the engine has none. */
  modelLabels: Names,
  promptTokens: Names,
  generationTokens: Names,
  /** Histogram base names. */
  ttft: Names,
  tpot: Names,
  /** Mean TPOT as Δseconds / Δtokens when the engine has no histogram (llama.cpp). */
  tpotCounters: z.object({ seconds: Names, tokens: Names }).nullable(),
  running: Names,
  waiting: Names,
  /** Fraction 0..1. */
  kvCacheUsage: Names,
  preemptions: Names,
  prefixCacheQueries: Names,
  prefixCacheHits: Names,
  /** Fraction 0..1 (a gauge over the engine's own window), used when the counters are absent. */
  prefixCacheHitRate: Names,
  requestsCompleted: Names,
  /** Further names a dashboard may use. */
  dashboard: Names.default([]),
});
export type EngineMetricMap = z.infer<typeof EngineMetricMapSchema>;

export const EngineMetricMapsSchema = z.record(z.string(), EngineMetricMapSchema);
export type EngineMetricMaps = z.infer<typeof EngineMetricMapsSchema>;

/** Every metric name a map mentions (histograms as their base name). */
export function metricNamesOf(map: EngineMetricMap): string[] {
  const names = [
    map.promptTokens,
    map.generationTokens,
    map.ttft,
    map.tpot,
    map.tpotCounters?.seconds ?? [],
    map.tpotCounters?.tokens ?? [],
    map.running,
    map.waiting,
    map.kvCacheUsage,
    map.preemptions,
    map.prefixCacheQueries,
    map.prefixCacheHits,
    map.prefixCacheHitRate,
    map.requestsCompleted,
    map.dashboard,
  ].flat();
  return [...new Set(names)];
}

export interface EngineSnapshot {
  exposition: Exposition;
}

export interface LatencySummary {
  /** Mean over the interval: Δsum / Δcount (ms). */
  meanMs: number | null;
  /** From the bucket deltas, interpolated within the bucket as histogram_quantile does (ms). */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface DerivedEngineMetrics {
  /** The model label's value, or null when the engine has none. */
  model: string | null;
  /** Seconds between the two scrapes; null on a first scrape (gauges only). */
  intervalSeconds: number | null;
  promptTokensPerSecond: number | null;
  generationTokensPerSecond: number | null;
  /** Tokens processed during the interval. */
  promptTokens: number | null;
  generationTokens: number | null;
  ttft: LatencySummary;
  tpot: LatencySummary;
  runningRequests: number | null;
  waitingRequests: number | null;
  kvCacheUsagePercent: number | null;
  preemptionsPerSecond: number | null;
  /** Share of prompt tokens served from the prefix cache during the interval (%). */
  prefixCacheHitPercent: number | null;
  /** Requests finished during the interval. */
  requestsCompleted: number | null;
  requestsPerSecond: number | null;
}

function seriesKey(labels: Record<string, string>, skip: string[]): string {
  return Object.keys(labels)
    .filter((k) => !skip.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",");
}

function modelOf(labels: Record<string, string>, modelLabels: readonly string[]): string | null {
  for (const label of modelLabels) {
    const value = labels[label];
    if (value !== undefined) return value;
  }
  return null;
}

/** Samples of one model, by name. */
type ModelSamples = Map<string, Sample[]>;

function groupByModel(
  exposition: Exposition,
  modelLabels: readonly string[],
): Map<string | null, ModelSamples> {
  const groups = new Map<string | null, ModelSamples>();
  for (const sample of exposition.samples) {
    const model = modelOf(sample.labels, modelLabels);
    let byName = groups.get(model);
    if (byName === undefined) {
      byName = new Map();
      groups.set(model, byName);
    }
    const list = byName.get(sample.name);
    if (list === undefined) byName.set(sample.name, [sample]);
    else list.push(sample);
  }
  return groups;
}

function firstPresent(samples: ModelSamples, names: readonly string[], suffix = ""): string | null {
  return names.find((name) => (samples.get(`${name}${suffix}`)?.length ?? 0) > 0) ?? null;
}

function gaugeValue(
  samples: ModelSamples,
  names: readonly string[],
  aggregate: "sum" | "mean",
): number | null {
  const name = firstPresent(samples, names);
  if (name === null) return null;
  const values = (samples.get(name) ?? []).map((s) => s.value).filter((v) => Number.isFinite(v));
  if (values.length === 0) return null;
  const sum = values.reduce((a, b) => a + b, 0);
  return aggregate === "sum" ? sum : sum / values.length;
}

/**
 * How much a counter grew between the scrapes, summed over its series. A series lower than before
 * (engine restart) or new since the first scrape counts from zero.
 */
function counterDelta(
  before: ModelSamples,
  after: ModelSamples,
  names: readonly string[],
  suffix = "",
  skipLabels: string[] = [],
): number | null {
  const base = firstPresent(after, names, suffix);
  if (base === null) return null;
  const name = `${base}${suffix}`;
  const previous = new Map<string, number>();
  for (const s of before.get(name) ?? []) previous.set(seriesKey(s.labels, skipLabels), s.value);
  let total = 0;
  for (const s of after.get(name) ?? []) {
    if (!Number.isFinite(s.value)) continue;
    const old = previous.get(seriesKey(s.labels, skipLabels));
    total += old === undefined || !Number.isFinite(old) || s.value < old ? s.value : s.value - old;
  }
  return total;
}

interface BucketDelta {
  le: number;
  count: number;
}

/** Bucket, sum and count deltas of a histogram, summed over its series (reset-aware per series). */
function histogramDelta(
  before: ModelSamples,
  after: ModelSamples,
  names: readonly string[],
): { buckets: BucketDelta[]; sum: number; count: number } | null {
  const base = firstPresent(after, names, "_count");
  if (base === null) return null;
  const countsBefore = new Map<string, number>();
  for (const s of before.get(`${base}_count`) ?? []) countsBefore.set(seriesKey(s.labels, []), s.value);
  // a series whose count went down restarted: all its figures count from zero
  const restarted = new Set<string>();
  for (const s of after.get(`${base}_count`) ?? []) {
    const key = seriesKey(s.labels, []);
    const old = countsBefore.get(key);
    if (old === undefined || s.value < old) restarted.add(key);
  }
  const delta = (sample: Sample, old: Map<string, number>, key: string, seriesId: string): number => {
    if (restarted.has(seriesId)) return sample.value;
    const previous = old.get(key);
    return previous === undefined || sample.value < previous ? sample.value : sample.value - previous;
  };
  const sumsBefore = new Map<string, number>();
  for (const s of before.get(`${base}_sum`) ?? []) sumsBefore.set(seriesKey(s.labels, []), s.value);
  let sum = 0;
  for (const s of after.get(`${base}_sum`) ?? []) {
    const key = seriesKey(s.labels, []);
    if (Number.isFinite(s.value)) sum += delta(s, sumsBefore, key, key);
  }
  let count = 0;
  for (const s of after.get(`${base}_count`) ?? []) {
    const key = seriesKey(s.labels, []);
    if (Number.isFinite(s.value)) count += delta(s, countsBefore, key, key);
  }
  const bucketsBefore = new Map<string, number>();
  for (const s of before.get(`${base}_bucket`) ?? []) bucketsBefore.set(seriesKey(s.labels, []), s.value);
  const byLe = new Map<number, number>();
  for (const s of after.get(`${base}_bucket`) ?? []) {
    const leText = s.labels.le;
    if (leText === undefined || !Number.isFinite(s.value)) continue;
    const le = leText === "+Inf" ? Number.POSITIVE_INFINITY : Number(leText);
    if (Number.isNaN(le)) continue;
    const d = delta(s, bucketsBefore, seriesKey(s.labels, []), seriesKey(s.labels, ["le"]));
    byLe.set(le, (byLe.get(le) ?? 0) + d);
  }
  const buckets = [...byLe.entries()].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}

/**
 * The q-quantile of cumulative buckets, as Prometheus' histogram_quantile computes it: find the
 * bucket holding rank q·total and interpolate linearly inside it (lower bound 0 for the first
 * bucket); a rank in the +Inf bucket answers the highest finite bound. Null without observations.
 */
export function bucketQuantile(q: number, buckets: readonly BucketDelta[]): number | null {
  if (buckets.length < 2 || buckets[buckets.length - 1]?.le !== Number.POSITIVE_INFINITY) return null;
  // counts must not decrease (they can, by float error or a scrape torn between series)
  const fixed: BucketDelta[] = [];
  let running = 0;
  for (const b of buckets) {
    running = Math.max(running, b.count);
    fixed.push({ le: b.le, count: running });
  }
  const total = fixed[fixed.length - 1]?.count ?? 0;
  if (!(total > 0) || q < 0 || q > 1) return null;
  const rank = q * total;
  let index = fixed.findIndex((b) => b.count >= rank);
  if (index < 0) index = fixed.length - 1;
  if (index === fixed.length - 1) return fixed[fixed.length - 2]?.le ?? null;
  const bucket = fixed[index] as BucketDelta;
  if (index === 0 && bucket.le <= 0) return bucket.le;
  const lower = index === 0 ? 0 : (fixed[index - 1] as BucketDelta).le;
  const countBelow = index === 0 ? 0 : (fixed[index - 1] as BucketDelta).count;
  const inBucket = bucket.count - countBelow;
  if (inBucket <= 0) return bucket.le;
  return lower + (bucket.le - lower) * ((rank - countBelow) / inBucket);
}

const NO_LATENCY: LatencySummary = { meanMs: null, p50Ms: null, p95Ms: null };

function latency(before: ModelSamples, after: ModelSamples, names: readonly string[]): LatencySummary {
  const histogram = histogramDelta(before, after, names);
  if (histogram === null || histogram.count <= 0) return NO_LATENCY;
  const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
  return {
    meanMs: ms(histogram.sum / histogram.count),
    p50Ms: ms(bucketQuantile(0.5, histogram.buckets)),
    p95Ms: ms(bucketQuantile(0.95, histogram.buckets)),
  };
}

function perSecond(delta: number | null, seconds: number | null): number | null {
  return delta === null || seconds === null ? null : delta / seconds;
}

function percent(fraction: number | null): number | null {
  return fraction === null ? null : fraction * 100;
}

function deriveOne(
  map: EngineMetricMap,
  model: string | null,
  before: ModelSamples | null,
  after: ModelSamples,
  elapsedSeconds: number | null,
): DerivedEngineMetrics {
  const seconds = before !== null && elapsedSeconds !== null && elapsedSeconds > 0 ? elapsedSeconds : null;
  const prev = seconds === null ? null : before;
  const delta = (names: readonly string[]) => (prev === null ? null : counterDelta(prev, after, names));

  const promptTokens = delta(map.promptTokens);
  const generationTokens = delta(map.generationTokens);
  const requestsCompleted = delta(map.requestsCompleted);
  const preemptions = delta(map.preemptions);

  let tpot = prev === null ? NO_LATENCY : latency(prev, after, map.tpot);
  if (prev !== null && tpot.meanMs === null && map.tpotCounters !== null) {
    const busySeconds = counterDelta(prev, after, map.tpotCounters.seconds);
    const tokens = counterDelta(prev, after, map.tpotCounters.tokens);
    if (busySeconds !== null && tokens !== null && tokens > 0) {
      tpot = { meanMs: (busySeconds / tokens) * 1000, p50Ms: null, p95Ms: null };
    }
  }

  let prefixCacheHitPercent: number | null = null;
  const queries = delta(map.prefixCacheQueries);
  const hits = delta(map.prefixCacheHits);
  if (queries !== null && queries > 0 && hits !== null) {
    prefixCacheHitPercent = Math.min(100, (hits / queries) * 100);
  } else if (queries === null || hits === null) {
    prefixCacheHitPercent = percent(gaugeValue(after, map.prefixCacheHitRate, "mean"));
  }

  return {
    model,
    intervalSeconds: seconds,
    promptTokensPerSecond: perSecond(promptTokens, seconds),
    generationTokensPerSecond: perSecond(generationTokens, seconds),
    promptTokens,
    generationTokens,
    ttft: prev === null ? NO_LATENCY : latency(prev, after, map.ttft),
    tpot,
    runningRequests: gaugeValue(after, map.running, "sum"),
    waitingRequests: gaugeValue(after, map.waiting, "sum"),
    kvCacheUsagePercent: percent(gaugeValue(after, map.kvCacheUsage, "mean")),
    preemptionsPerSecond: perSecond(preemptions, seconds),
    prefixCacheHitPercent,
    requestsCompleted,
    requestsPerSecond: perSecond(requestsCompleted, seconds),
  };
}

export interface DeriveInput {
  map: EngineMetricMap;
  /** The earlier scrape, or null on the first one (then only gauges are derived). */
  before: Exposition | null;
  after: Exposition;
  /** Seconds between the two scrapes, measured by the caller. */
  elapsedSeconds: number | null;
}

/** One result per model found in the later scrape (one with `model: null` for unlabelled engines). */
export function deriveEngineMetrics(input: DeriveInput): DerivedEngineMetrics[] {
  const afterGroups = groupByModel(input.after, input.map.modelLabels);
  const beforeGroups = input.before === null ? null : groupByModel(input.before, input.map.modelLabels);
  const models = [...afterGroups.keys()];
  // series without a model label (process_*, python_gc_*) belong to no model: skip that group
  // when labelled groups exist
  const wanted =
    input.map.modelLabels.length > 0 && models.some((m) => m !== null)
      ? models.filter((m) => m !== null)
      : models;
  return wanted.map((model) =>
    deriveOne(
      input.map,
      model,
      beforeGroups === null ? null : (beforeGroups.get(model) ?? new Map()),
      afterGroups.get(model) ?? new Map(),
      input.elapsedSeconds,
    ),
  );
}

/** The result for `model` (or the only one), else null. */
export function pickModel(
  results: readonly DerivedEngineMetrics[],
  model: string,
): DerivedEngineMetrics | null {
  return results.find((r) => r.model === model) ?? (results.length === 1 ? (results[0] ?? null) : null);
}
