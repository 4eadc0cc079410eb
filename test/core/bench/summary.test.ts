import { describe, expect, it } from "vitest";
import { syntheticPrompt } from "../../../src/core/bench/prompt.js";
import { resolveBenchSettings } from "../../../src/core/bench/settings.js";
import {
  type BenchSample,
  compareWithPlan,
  distribution,
  summarizeBench,
  tpotOf,
} from "../../../src/core/bench/summary.js";
import { ServepilotError } from "../../../src/core/errors.js";

function ok(
  ttftMs: number,
  e2eMs: number,
  outputTokens: number,
  promptTokens: number | null = 100,
): BenchSample {
  return {
    ok: true,
    error: null,
    ttftMs,
    tpotMs: tpotOf(e2eMs, ttftMs, outputTokens),
    e2eMs,
    promptTokens,
    outputTokens,
  };
}

function failed(error: string): BenchSample {
  return { ok: false, error, ttftMs: null, tpotMs: null, e2eMs: 5, promptTokens: null, outputTokens: 0 };
}

describe("bench summary", () => {
  it("TPOT is the time after the first token over the tokens that followed it", () => {
    expect(tpotOf(1100, 100, 11)).toBe(100);
    expect(tpotOf(500, 100, 1)).toBeNull();
    expect(tpotOf(500, null, 10)).toBeNull();
  });

  it("computes percentiles, means and rates from hand-checked samples", () => {
    // TTFT 10, 20, 30, 40; e2e 110, 220, 330, 440; 11 tokens each -> TPOT 10, 20, 30, 40
    const samples = [
      ok(10, 110, 11),
      ok(20, 220, 11),
      ok(30, 330, 11),
      ok(40, 440, 11),
      failed("HTTP 500: boom"),
    ];
    const s = summarizeBench(samples, 2);
    expect(s.requests).toEqual({ total: 5, succeeded: 4, failed: 1 });
    expect(s.errors).toEqual([{ message: "HTTP 500: boom", count: 1 }]);
    expect(s.ttftMs.mean).toBe(25);
    // numpy linear: rank 0.5 * 3 = 1.5 -> 25; 0.95 * 3 = 2.85 -> 38.5; 0.99 * 3 = 2.97 -> 39.7
    expect(s.ttftMs.p50).toBeCloseTo(25, 10);
    expect(s.ttftMs.p95).toBeCloseTo(38.5, 10);
    expect(s.ttftMs.p99).toBeCloseTo(39.7, 10);
    expect(s.ttftMs.min).toBe(10);
    expect(s.ttftMs.max).toBe(40);
    expect(s.tpotMs.mean).toBeCloseTo(25, 10);
    expect(s.e2eMs.p50).toBeCloseTo(275, 10);
    // 44 tokens over 2 s; 4 requests over 2 s
    expect(s.totalOutputTokens).toBe(44);
    expect(s.outputTokensPerSecond).toBe(22);
    expect(s.requestsPerSecond).toBe(2);
    expect(s.totalPromptTokens).toBe(400);
    expect(s.meanPromptTokens).toBe(100);
    expect(s.meanOutputTokens).toBe(11);
  });

  it("an empty or all-failed run has no figures rather than zeros", () => {
    const s = summarizeBench([failed("a"), failed("b"), failed("a")], 1);
    expect(s.requests.succeeded).toBe(0);
    expect(s.errors).toEqual([
      { message: "a", count: 2 },
      { message: "b", count: 1 },
    ]);
    expect(s.ttftMs.p50).toBeNull();
    expect(s.outputTokensPerSecond).toBeNull();
    expect(summarizeBench([], 0).wallSeconds).toBe(0);
    expect(distribution([])).toEqual({ mean: null, p50: null, p95: null, p99: null, min: null, max: null });
  });

  it("compares measured with planned in percent of the planned figure", () => {
    const s = summarizeBench([ok(10, 110, 11), ok(30, 330, 11)], 1);
    // TTFT mean 20, TPOT mean 20, 22 tokens/s
    const rows = compareWithPlan(s, { ttftMs: 25, tpotMs: null, outputTokensPerSecond: 20 });
    expect(rows.map((r) => [r.metric, r.planned, r.measured])).toEqual([
      ["ttftMs", 25, 20],
      ["outputTokensPerSecond", 20, 22],
    ]);
    expect(rows[0]?.differencePercent).toBeCloseTo(-20, 10);
    expect(rows[1]?.differencePercent).toBeCloseTo(10, 10);
    expect(compareWithPlan(s, null)).toEqual([]);
  });
});

describe("bench settings", () => {
  it("fills defaults: 8 requests per concurrent worker", () => {
    expect(resolveBenchSettings({})).toEqual({
      concurrency: 1,
      requests: 8,
      promptTokens: 512,
      outputTokens: 128,
    });
    expect(resolveBenchSettings({ concurrency: 4 }).requests).toBe(32);
  });

  it("refuses values out of range, naming the option", () => {
    expect(() => resolveBenchSettings({ concurrency: 0 })).toThrow(
      /--concurrency must be an integer from 1 to 1024/,
    );
    expect(() =>
      resolveBenchSettings(
        { outputTokens: 1.5 },
        {
          concurrency: "concurrency",
          requests: "requests",
          promptTokens: "promptTokens",
          outputTokens: "outputTokens",
        },
      ),
    ).toThrow(/^outputTokens must be/);
    try {
      resolveBenchSettings({ requests: 10_000_000 });
    } catch (error) {
      expect(error).toBeInstanceOf(ServepilotError);
      expect((error as ServepilotError).exitCode).toBe(2);
    }
  });
});

describe("synthetic prompt", () => {
  it("is deterministic, about the asked length in words, and differs per salt", () => {
    expect(syntheticPrompt(512, 3)).toBe(syntheticPrompt(512, 3));
    expect(syntheticPrompt(512, 3)).not.toBe(syntheticPrompt(512, 4));
    expect(syntheticPrompt(512).split(" ")).toHaveLength(512);
    expect(syntheticPrompt(5).split(" ")).toHaveLength(5);
    expect(syntheticPrompt(1).split(" ")).toHaveLength(1);
  });
});
