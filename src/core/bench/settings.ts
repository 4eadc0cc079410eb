/**
 * A benchmark's workload: how many requests, how many at once, and the prompt and output lengths.
 * Shared by `servepilot bench` and POST /api/benchmarks; the limits keep a typo from starting a run
 * that would never end.
 */
import { ServepilotError } from "../errors.js";

export interface BenchSettings {
  /** Requests in flight at once (closed loop: each worker sends its next request when one ends). */
  concurrency: number;
  /** Measured requests in all (the warm-up request is not counted). */
  requests: number;
  /** Length of the synthetic prompt, in tokens (approximate: the engine's count is reported). */
  promptTokens: number;
  /** Tokens generated per request (max_tokens, with min_tokens and ignore_eos for engines that take them). */
  outputTokens: number;
}

export const BENCH_DEFAULTS = { concurrency: 1, promptTokens: 512, outputTokens: 128 } as const;

export const BENCH_LIMITS = {
  concurrency: 1024,
  requests: 100_000,
  promptTokens: 1_000_000,
  outputTokens: 131_072,
} as const;

/** Requests when none are given: 8 per concurrent worker. */
export function defaultRequests(concurrency: number): number {
  return Math.max(1, 8 * concurrency);
}

/** How each setting is named to the user (CLI flags or API fields). */
export type BenchSettingNames = Record<keyof BenchSettings, string>;

export const CLI_SETTING_NAMES: BenchSettingNames = {
  concurrency: "--concurrency",
  requests: "--requests",
  promptTokens: "--prompt-tokens",
  outputTokens: "--output-tokens",
};

/**
 * Fills the defaults and checks every value: a positive integer within its limit. The error names the
 * option (`names`) and exits 2.
 */
export function resolveBenchSettings(
  input: Partial<BenchSettings>,
  names: BenchSettingNames = CLI_SETTING_NAMES,
): BenchSettings {
  const concurrency = input.concurrency ?? BENCH_DEFAULTS.concurrency;
  check("concurrency", concurrency, names);
  const settings: BenchSettings = {
    concurrency,
    requests: input.requests ?? defaultRequests(concurrency),
    promptTokens: input.promptTokens ?? BENCH_DEFAULTS.promptTokens,
    outputTokens: input.outputTokens ?? BENCH_DEFAULTS.outputTokens,
  };
  check("requests", settings.requests, names);
  check("promptTokens", settings.promptTokens, names);
  check("outputTokens", settings.outputTokens, names);
  return settings;
}

function check(key: keyof BenchSettings, value: number, names: BenchSettingNames): void {
  const limit = BENCH_LIMITS[key];
  if (!Number.isSafeInteger(value) || value < 1 || value > limit) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${names[key]} must be an integer from 1 to ${limit}, got ${JSON.stringify(value)}`,
    );
  }
}
