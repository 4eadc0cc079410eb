/**
 * A benchmark's figures from its per-request samples, and their comparison with the planner's
 * estimate for the same workload. Definitions (docs/bench-command.md):
 * - TTFT: from sending the request to the first generated token (content or reasoning) arriving.
 * - TPOT: (e2e - TTFT) / (output tokens - 1), per request (requests of one token have none).
 * - e2e: from sending the request to the last byte of the response.
 * - output tokens/s: all output tokens of the successful requests / wall seconds of the run.
 * - requests/s: successful requests / wall seconds.
 * Percentiles are numpy's linear ones (core/stats/percentile.ts), over the successful requests.
 */
import { summaryPercentiles } from "../stats/percentile.js";

/** One measured request. Times in milliseconds. */
export interface BenchSample {
  ok: boolean;
  /** Why the request failed (HTTP status and message, or the network error); null when it succeeded. */
  error: string | null;
  ttftMs: number | null;
  /** null when fewer than two tokens came back. */
  tpotMs: number | null;
  e2eMs: number;
  /** The engine's count (usage.prompt_tokens); null when it sent no usage. */
  promptTokens: number | null;
  /** usage.completion_tokens, else the content chunks counted. */
  outputTokens: number;
}

export interface Distribution {
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
}

export interface BenchSummary {
  requests: { total: number; succeeded: number; failed: number };
  /** Distinct failure messages with how often each happened (most frequent first). */
  errors: Array<{ message: string; count: number }>;
  wallSeconds: number;
  ttftMs: Distribution;
  tpotMs: Distribution;
  e2eMs: Distribution;
  outputTokensPerSecond: number | null;
  requestsPerSecond: number | null;
  totalOutputTokens: number;
  totalPromptTokens: number;
  /** Mean engine-counted prompt tokens per request (null when no usage came back). */
  meanPromptTokens: number | null;
  meanOutputTokens: number | null;
}

/** The planner's estimate for the workload (means, as the planner's simulation reports them). */
export interface PlannedFigures {
  ttftMs: number | null;
  tpotMs: number | null;
  outputTokensPerSecond: number | null;
}

export type ComparedMetric = "ttftMs" | "tpotMs" | "outputTokensPerSecond";

export interface BenchComparison {
  metric: ComparedMetric;
  planned: number;
  measured: number;
  /** (measured - planned) / planned x 100: positive means the measured figure is higher. */
  differencePercent: number;
}

export function distribution(values: readonly number[]): Distribution {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { mean: null, p50: null, p95: null, p99: null, min: null, max: null };
  const { p50, p95, p99 } = summaryPercentiles(finite);
  return {
    mean: finite.reduce((sum, v) => sum + v, 0) / finite.length,
    p50,
    p95,
    p99,
    min: Math.min(...finite),
    max: Math.max(...finite),
  };
}

/** Figures of a run: `wallSeconds` from the first request sent to the last answer received. */
export function summarizeBench(samples: readonly BenchSample[], wallSeconds: number): BenchSummary {
  const ok = samples.filter((s) => s.ok);
  const failed = samples.length - ok.length;
  const counts = new Map<string, number>();
  for (const s of samples) {
    if (!s.ok) counts.set(s.error ?? "unknown error", (counts.get(s.error ?? "unknown error") ?? 0) + 1);
  }
  const errors = [...counts.entries()]
    .map(([message, count]) => ({ message, count }))
    .sort((a, b) => b.count - a.count || a.message.localeCompare(b.message));
  const totalOutputTokens = ok.reduce((sum, s) => sum + s.outputTokens, 0);
  const prompts = ok.flatMap((s) => (s.promptTokens === null ? [] : [s.promptTokens]));
  const totalPromptTokens = prompts.reduce((sum, v) => sum + v, 0);
  const seconds = Number.isFinite(wallSeconds) && wallSeconds > 0 ? wallSeconds : null;
  return {
    requests: { total: samples.length, succeeded: ok.length, failed },
    errors,
    wallSeconds: seconds ?? 0,
    ttftMs: distribution(ok.flatMap((s) => (s.ttftMs === null ? [] : [s.ttftMs]))),
    tpotMs: distribution(ok.flatMap((s) => (s.tpotMs === null ? [] : [s.tpotMs]))),
    e2eMs: distribution(ok.map((s) => s.e2eMs)),
    outputTokensPerSecond: seconds === null || ok.length === 0 ? null : totalOutputTokens / seconds,
    requestsPerSecond: seconds === null || ok.length === 0 ? null : ok.length / seconds,
    totalOutputTokens,
    totalPromptTokens,
    meanPromptTokens: prompts.length === 0 ? null : totalPromptTokens / prompts.length,
    meanOutputTokens: ok.length === 0 ? null : totalOutputTokens / ok.length,
  };
}

/** TPOT of one request: the time after the first token spread over the tokens that followed it. */
export function tpotOf(e2eMs: number, ttftMs: number | null, outputTokens: number): number | null {
  if (ttftMs === null || outputTokens < 2) return null;
  return Math.max(0, e2eMs - ttftMs) / (outputTokens - 1);
}

/**
 * Measured against planned, per metric both have: mean TTFT and TPOT (the planner estimates means)
 * and output tokens/s.
 */
export function compareWithPlan(summary: BenchSummary, planned: PlannedFigures | null): BenchComparison[] {
  if (planned === null) return [];
  const pairs: Array<[ComparedMetric, number | null, number | null]> = [
    ["ttftMs", planned.ttftMs, summary.ttftMs.mean],
    ["tpotMs", planned.tpotMs, summary.tpotMs.mean],
    ["outputTokensPerSecond", planned.outputTokensPerSecond, summary.outputTokensPerSecond],
  ];
  return pairs.flatMap(([metric, plannedValue, measured]) =>
    plannedValue === null || measured === null || !(plannedValue > 0) || !Number.isFinite(measured)
      ? []
      : [
          {
            metric,
            planned: plannedValue,
            measured,
            differencePercent: ((measured - plannedValue) / plannedValue) * 100,
          },
        ],
  );
}
