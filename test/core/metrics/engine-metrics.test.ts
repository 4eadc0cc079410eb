/**
 * Serving figures from two scrapes of vLLM, SGLang and llama.cpp /metrics (test/fixtures/metrics,
 * SOURCES.md there), with the expected numbers worked out by hand from the fixtures' deltas.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bucketQuantile,
  type DerivedEngineMetrics,
  deriveEngineMetrics,
  type EngineMetricMaps,
  pickModel,
} from "../../../src/core/metrics/engine-metrics.js";
import { parsePromText } from "../../../src/core/metrics/prom-text.js";
import { loadEngineMetricMaps } from "../../../src/runtime/metrics/engine-metric-names.js";

const FIXTURES = new URL("../../fixtures/metrics/", import.meta.url).pathname;
const scrape = (file: string) => parsePromText(readFileSync(`${FIXTURES}${file}`, "utf8"));

let maps: EngineMetricMaps;
beforeAll(async () => {
  maps = await loadEngineMetricMaps();
});

function derive(engine: string, a: string | null, b: string, seconds: number | null): DerivedEngineMetrics[] {
  const map = maps[engine];
  if (map === undefined) throw new Error(`no map for ${engine}`);
  return deriveEngineMetrics({
    map,
    before: a === null ? null : scrape(a),
    after: scrape(b),
    elapsedSeconds: seconds,
  });
}

describe("fixtures", () => {
  it("parse without errors", () => {
    for (const file of [
      "vllm-v1-dp2-a.prom",
      "vllm-v1-dp2-b.prom",
      "sglang-a.prom",
      "sglang-b.prom",
      "sglang-restart.prom",
      "llamacpp-a.prom",
      "llamacpp-b.prom",
    ]) {
      expect(scrape(file).errors, file).toEqual([]);
    }
  });
});

describe("vLLM V1 (two engine cores)", () => {
  it("sums the engine cores of one model and derives rates, latencies and cache figures", () => {
    const results = derive("vllm", "vllm-v1-dp2-a.prom", "vllm-v1-dp2-b.prom", 10);
    expect(results).toHaveLength(1); // python_gc_* (no model label) is no model
    const m = results[0] as DerivedEngineMetrics;
    expect(m.model).toBe("/home/jovyan/qwen3-8b");
    // Δprompt = (3000-1000) + (1500-500); Δgeneration = (9000-5000) + (4500-2500); over 10 s
    expect(m.promptTokens).toBe(3000);
    expect(m.promptTokensPerSecond).toBe(300);
    expect(m.generationTokensPerSecond).toBe(600);
    // TTFT: engine 0 gained 20 observations (Δsum 1.8 s), engine 1 none
    expect(m.ttft.meanMs).toBeCloseTo(90, 9);
    // rank 10 in (0.06, 0.08] holding 6 above 4 → 0.06 + 0.02·6/6; rank 19 in (0.1, 0.25]: 0.1 + 0.15·3/4
    expect(m.ttft.p50Ms).toBeCloseTo(80, 9);
    expect(m.ttft.p95Ms).toBeCloseTo(212.5, 9);
    // inter-token latency: Δcount 4000 + 2000, Δsum 120 + 80 s
    expect(m.tpot.meanMs).toBeCloseTo(200_000 / 6000, 9);
    expect(m.tpot.p50Ms).toBeCloseTo(37.5, 9);
    expect(m.tpot.p95Ms).toBeCloseTo((0.05 + (0.025 * 700) / 900) * 1000, 9);
    expect(m.runningRequests).toBe(5);
    expect(m.waitingRequests).toBe(1);
    expect(m.kvCacheUsagePercent).toBeCloseTo(30, 9); // mean of 0.25 and 0.35
    expect(m.preemptionsPerSecond).toBe(0.5);
    expect(m.prefixCacheHitPercent).toBe(50); // Δhits 2000 / Δqueries 4000
    expect(m.requestsCompleted).toBe(20); // finished_reason summed: 16 + 2 + 2
    expect(m.requestsPerSecond).toBe(2);
  });

  it("derives only gauges from a first scrape", () => {
    const [m] = derive("vllm", null, "vllm-v1-dp2-b.prom", null);
    expect(m?.runningRequests).toBe(5);
    expect(m?.promptTokensPerSecond).toBeNull();
    expect(m?.ttft).toEqual({ meanMs: null, p50Ms: null, p95Ms: null });
    expect(m?.requestsCompleted).toBeNull();
  });

  it("never mixes two models behind one endpoint", () => {
    const text = (a: number, b: number) =>
      `vllm:generation_tokens_total{model_name="a",engine="0"} ${a}\nvllm:generation_tokens_total{model_name="b",engine="0"} ${b}\n`;
    const results = deriveEngineMetrics({
      map: maps.vllm as NonNullable<EngineMetricMaps["vllm"]>,
      before: parsePromText(text(100, 1000)),
      after: parsePromText(text(150, 3000)),
      elapsedSeconds: 5,
    });
    expect(pickModel(results, "a")?.generationTokensPerSecond).toBe(10);
    expect(pickModel(results, "b")?.generationTokensPerSecond).toBe(400);
    expect(pickModel(results, "c")).toBeNull();
  });

  it("falls back to the deprecated names of older releases", () => {
    const before = parsePromText('vllm:gpu_cache_usage_perc{model_name="m",engine="0"} 0.5\n');
    const [m] = deriveEngineMetrics({
      map: maps.vllm as NonNullable<EngineMetricMaps["vllm"]>,
      before: null,
      after: before,
      elapsedSeconds: null,
    });
    expect(m?.kvCacheUsagePercent).toBe(50);
  });
});

describe("SGLang", () => {
  it("derives rates, latencies (inter-token latency counts tokens) and the prefix-cache hit rate", () => {
    const [m] = derive("sglang", "sglang-a.prom", "sglang-b.prom", 5);
    expect(m?.model).toBe("Qwen-32B");
    expect(m?.promptTokensPerSecond).toBe(400);
    expect(m?.generationTokensPerSecond).toBe(800);
    expect(m?.ttft.meanMs).toBeCloseTo(200, 9);
    expect(m?.ttft.p50Ms).toBeCloseTo(200, 9);
    expect(m?.ttft.p95Ms).toBeCloseTo(380, 9);
    expect(m?.tpot.meanMs).toBeCloseTo(20, 9);
    expect(m?.tpot.p50Ms).toBeCloseTo(17.5, 9);
    expect(m?.runningRequests).toBe(8);
    expect(m?.waitingRequests).toBe(3);
    expect(m?.kvCacheUsagePercent).toBeCloseTo(42, 9);
    expect(m?.prefixCacheHitPercent).toBe(50); // Δcached 1000 / Δprompt 2000
    expect(m?.preemptionsPerSecond).toBeCloseTo(0.4, 9);
    expect(m?.requestsCompleted).toBe(20);
  });

  it("counts a restarted engine's counters from zero instead of going negative", () => {
    const [m] = derive("sglang", "sglang-b.prom", "sglang-restart.prom", 5);
    expect(m?.promptTokens).toBe(300);
    expect(m?.generationTokensPerSecond).toBe(120);
    expect(m?.requestsCompleted).toBe(3);
    // the histogram restarted too: all of its 3 observations are new
    expect(m?.ttft.meanMs).toBeCloseTo(700 / 3, 9);
    for (const value of [m?.promptTokensPerSecond, m?.preemptionsPerSecond, m?.requestsPerSecond]) {
      expect(value).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("llama.cpp", () => {
  it("derives rates and the mean time per output token from its busy-time counters", () => {
    const [m] = derive("llamacpp", "llamacpp-a.prom", "llamacpp-b.prom", 10);
    expect(m?.model).toBeNull();
    expect(m?.promptTokensPerSecond).toBe(50);
    expect(m?.generationTokensPerSecond).toBe(100);
    expect(m?.tpot.meanMs).toBeCloseTo(20, 6); // 20 s of decoding for 1000 tokens
    expect(m?.ttft.meanMs).toBeNull();
    expect(m?.runningRequests).toBe(2);
    expect(m?.waitingRequests).toBe(1);
    expect(m?.kvCacheUsagePercent).toBeNull(); // removed from llama-server (#13660)
    expect(m?.requestsCompleted).toBeNull();
  });
});

describe("bucketQuantile", () => {
  const inf = Number.POSITIVE_INFINITY;
  it("interpolates within the bucket as histogram_quantile does", () => {
    const buckets = [
      { le: 1, count: 10 },
      { le: 2, count: 30 },
      { le: inf, count: 40 },
    ];
    expect(bucketQuantile(0.25, buckets)).toBeCloseTo(1, 12); // rank 10 at the top of the first bucket
    expect(bucketQuantile(0.125, buckets)).toBeCloseTo(0.5, 12); // lower bound 0
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(1.5, 12);
    expect(bucketQuantile(0.9, buckets)).toBe(2); // in +Inf: the highest finite bound
  });

  it("answers null without observations or without a +Inf bucket", () => {
    expect(
      bucketQuantile(0.5, [
        { le: 1, count: 0 },
        { le: inf, count: 0 },
      ]),
    ).toBeNull();
    expect(
      bucketQuantile(0.5, [
        { le: 1, count: 3 },
        { le: 2, count: 3 },
      ]),
    ).toBeNull();
  });
});
