/**
 * A whole benchmark: the load (load.ts), its figures and the planner's estimate for the same workload
 * (core/bench/summary.ts), as `servepilot bench --json` prints it and the studio stores it.
 */
import type { BenchSettings } from "../../core/bench/settings.js";
import {
  type BenchComparison,
  type BenchSummary,
  compareWithPlan,
  type PlannedFigures,
  summarizeBench,
} from "../../core/bench/summary.js";
import type { InstanceRecord } from "../supervisor/instance.js";
import { type BenchApi, type LoadProgress, runLoad } from "./load.js";
import { type PlannedEstimate, plannedForInstance } from "./planned.js";

export interface BenchmarkResult {
  target: {
    url: string;
    model: string;
    instance: string | null;
    engine: string | null;
  };
  api: BenchApi;
  settings: BenchSettings;
  startedAt: string;
  finishedAt: string;
  cancelled: boolean;
  summary: BenchSummary;
  planned: PlannedFigures | null;
  /** Why there is no planned estimate (null when there is one). */
  plannedUnavailable: string | null;
  comparison: BenchComparison[];
}

export interface BenchmarkOptions {
  baseUrl: string;
  model: string;
  instance: InstanceRecord | null;
  settings: BenchSettings;
  api?: BenchApi;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  warmup?: boolean;
  requestTimeoutMs?: number;
  /** For the planner (user catalogs). */
  dataDir?: string | null;
  env?: NodeJS.ProcessEnv;
  /** An estimate computed already (the studio stores it when the run starts). */
  planned?: PlannedEstimate;
}

/** The planner's estimate for the instance, or why there is none. */
export function plannedEstimate(
  instance: InstanceRecord | null,
  settings: BenchSettings,
  options: { dataDir?: string | null; env?: NodeJS.ProcessEnv } = {},
): Promise<PlannedEstimate> {
  if (instance === null) {
    return Promise.resolve({
      figures: null,
      unavailable: "the endpoint is no instance servepilot started (its model and GPUs are unknown)",
    });
  }
  return plannedForInstance(instance, settings, options);
}

export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkResult> {
  const api = options.api ?? "chat";
  const plannedPromise =
    options.planned !== undefined
      ? Promise.resolve(options.planned)
      : plannedEstimate(options.instance, options.settings, {
          dataDir: options.dataDir ?? null,
          ...(options.env ? { env: options.env } : {}),
        });
  // the planner runs while the load does (it reads catalogs, no network: offline)
  plannedPromise.catch(() => undefined);
  const load = await runLoad({
    ...options.settings,
    baseUrl: options.baseUrl,
    model: options.model,
    api,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.warmup !== undefined ? { warmup: options.warmup } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const planned = await plannedPromise;
  const summary = summarizeBench(load.samples, load.wallSeconds);
  return {
    target: {
      url: load.url,
      model: options.model,
      instance: options.instance?.name ?? null,
      engine: options.instance?.engine ?? null,
    },
    api,
    settings: options.settings,
    startedAt: load.startedAt,
    finishedAt: load.finishedAt,
    cancelled: load.cancelled,
    summary,
    planned: planned.figures,
    plannedUnavailable: planned.unavailable,
    comparison: compareWithPlan(summary, planned.figures),
  };
}
