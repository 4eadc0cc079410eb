import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GpuCatalogEntry } from "../../core/gpu/gpu-spec.js";
import { matchGpu } from "../../core/gpu/match-gpu.js";
import type { EngineName } from "../../core/memory/types.js";
import { describeModel } from "../../core/model/describe-model.js";
import { type Efficiency, selectEfficiency } from "../../core/perf/efficiency.js";
import { estimatePoint, type RooflineInput } from "../../core/perf/roofline.js";
import { schedulerPolicy } from "../../core/perf/scheduler.js";
import { buildPlanWithPerfInput } from "../../core/plan/build-plan.js";
import type { UserEngineSettings } from "../../core/plan/types.js";
import { type EngineCatalog, loadEngineCatalog } from "../catalog/engine-catalog.js";
import { loadGpuCatalog } from "../catalog/gpu-catalog.js";
import { loadModelCatalog, type ModelCatalog } from "../catalog/model-catalog.js";
import { BUILTIN_DATA_DIR } from "../paths.js";

/** One row of data/calibration/perf.jsonl (the fields this evaluation reads). */
export interface PerfRow {
  id: string;
  source: string;
  engine: string;
  engineVersion: string | null;
  model: string;
  gpu: string;
  gpuCount: number | null;
  tensorParallelSize: number | null;
  precision: string | null;
  workload: {
    mode?: "offline" | "closed-loop" | "poisson" | "static-batch";
    inputTokens: number | null;
    outputTokens: number | null;
    concurrency: number | null;
    requestRate?: number | null;
    batchSize?: number | null;
    /** Every request had exactly these lengths (fixed-length data, EOS ignored); null = not stated. */
    fixedLengths?: boolean | null;
  };
  result: {
    outputTokensPerSecond: number | null;
    meanTtftMs: number | null;
    medianTtftMs: number | null;
    meanTpotMs: number | null;
    medianTpotMs: number | null;
    decodeTokensPerSecondSingleStream: number | null;
    prefillTokensPerSecond: number | null;
    meanE2eLatencyMs?: number | null;
  };
}

export interface PerfComparison {
  id: string;
  metric:
    | "outputTokensPerSecond"
    | "ttftMs"
    | "tpotMs"
    | "decodeTokensPerSecond"
    | "prefillTokensPerSecond"
    | "batchLatencyMs";
  published: number;
  predicted: number;
  /** |predicted - published| / published */
  error: number;
}

/**
 * The acceptance metrics and the comparisons each one pools: output tokens/s (aggregate throughput,
 * single-stream decode rate, the latency of a static batch), time to first token (TTFT, prefill rate)
 * and time per output token.
 */
export const METRIC_GROUPS = {
  throughput: ["outputTokensPerSecond", "decodeTokensPerSecond", "batchLatencyMs"],
  ttft: ["ttftMs", "prefillTokensPerSecond"],
  tpot: ["tpotMs"],
} as const satisfies Record<string, ReadonlyArray<PerfComparison["metric"]>>;

/** The engine whose memory model a published engine is planned with (TRT-LLM and MLPerf runs use vLLM's). */
function plannedEngine(engine: string): EngineName {
  return engine === "sglang" ? "sglang" : engine === "llamacpp" ? "llamacpp" : "vllm";
}

function settingsFor(row: PerfRow, quantizedCheckpoint: boolean, gpuFp8: boolean): UserEngineSettings | null {
  const tp = row.tensorParallelSize ?? row.gpuCount ?? 1;
  const precision = (row.precision ?? "bf16").toLowerCase();
  const settings: UserEngineSettings = { tensorParallelSize: tp };
  if (precision.startsWith("fp8") && !quantizedCheckpoint) {
    if (!gpuFp8) return null;
    settings.quantization = "fp8";
  }
  const len = (row.workload.inputTokens ?? 0) + (row.workload.outputTokens ?? 0);
  if (len > 0) settings.maxModelLen = Math.max(2048, 2 ** Math.ceil(Math.log2(len)));
  return settings;
}

/** Re-predicts each published measurement the catalogs can describe. */
export function comparePerfRow(
  row: PerfRow,
  catalogs: {
    models: ModelCatalog;
    gpus: GpuCatalogEntry[];
    engines: EngineCatalog;
    efficiency?: readonly Efficiency[];
  },
): PreparedPerfRow | string {
  const entry = catalogs.models.find(row.model);
  if (!entry) return `model ${row.model} not in the catalog`;
  let gpu: GpuCatalogEntry;
  try {
    gpu = matchGpu(row.gpu, catalogs.gpus).entry;
  } catch {
    return `GPU ${JSON.stringify(row.gpu)} not in the catalog`;
  }
  const precision = (row.precision ?? "bf16").toLowerCase();
  // 4-bit runs of a model the catalog holds unquantized: plan them as a 4-bit group-128 checkpoint
  const fourBit = /^(q4|awq|w4a16|int4|gptq)/.test(precision);
  const config =
    fourBit && !("quantization_config" in entry.config)
      ? {
          ...entry.config,
          quantization_config: { quant_method: "awq", bits: 4, group_size: 128, zero_point: true },
        }
      : entry.config;
  const model = describeModel({ config, label: entry.id });
  const settings = settingsFor(row, model.architecture.quantization !== null, gpu.fp8);
  if (settings && plannedEngine(row.engine) === "llamacpp")
    settings.maxNumSeqs = Math.max(1, row.workload.concurrency ?? row.workload.batchSize ?? 1);
  if (!settings) return `precision ${row.precision} not available on ${gpu.name}`;
  const input = row.workload.inputTokens ?? 512;
  const output = row.workload.outputTokens ?? 128;
  const engine = plannedEngine(row.engine);
  const mode = row.workload.mode ?? (row.workload.batchSize ? "static-batch" : "closed-loop");
  // offline runs queue every request at once: the engine runs as many as its batch and KV allow
  let perfInput: RooflineInput | null = null;
  const planAt = (concurrency: number) => {
    const built = buildPlanWithPerfInput({
      modelId: entry.id,
      model,
      gpu,
      gpuCount: row.gpuCount ?? settings.tensorParallelSize ?? 1,
      nodes: 1,
      gpusPerNode: row.gpuCount ?? settings.tensorParallelSize ?? 1,
      engine,
      engineVersion: null,
      engineSpecs: catalogs.engines,
      efficiency: catalogs.efficiency ?? catalogs.engines.efficiency,
      user: settings,
      workload: {
        promptTokens: input,
        genTokens: output,
        concurrency,
        batchingMode: "balanced",
        arrival: mode === "static-batch" ? "static-batch" : "closed-loop",
      },
    });
    perfInput = built.perfInput;
    return built.plan;
  };
  let plan: ReturnType<typeof planAt>;
  try {
    if (mode === "offline") {
      plan = planAt(4096);
    } else if (mode === "poisson" && row.workload.requestRate) {
      // planned for the memory; the performance model runs the open loop at the published rate
      plan = planAt(Math.max(1, Math.round(row.workload.requestRate * 10)));
    } else {
      plan = planAt(row.workload.concurrency ?? row.workload.batchSize ?? 1);
    }
  } catch (error) {
    return `cannot plan: ${(error as Error).message}`;
  }
  if (!plan.fits && settings.gpuMemoryUtilization === undefined) {
    // The run happened, so the engine had room for KV: runs that fill the GPU (a 72B model in bf16 on
    // two 80 GB GPUs) were launched with a higher --gpu-memory-utilization than the default and a
    // --max-model-len no longer than the benchmark needs.
    settings.gpuMemoryUtilization = 0.95;
    const needed = (row.workload.inputTokens ?? 0) + (row.workload.outputTokens ?? 0);
    if (needed > 0) settings.maxModelLen = Math.max(2048, needed);
    try {
      plan = planAt(row.workload.concurrency ?? row.workload.batchSize ?? 1);
    } catch (error) {
      return `cannot plan: ${(error as Error).message}`;
    }
  }
  if (!plan.fits) return `does not fit as planned (${plan.reasons[0] ?? ""})`;
  if (!perfInput) return "no performance input";
  const planned = perfInput as RooflineInput;
  return {
    row,
    perfInput: {
      ...planned,
      // the scheduler of the engine release that ran, not of the release the memory is planned with
      scheduler: schedulerPolicy(row.engine, row.engineVersion, {
        mla: planned.arch.attention.mla !== null,
        maxNumBatchedTokens: planned.maxNumBatchedTokens,
        maxModelLen: plan.config.maxModelLen,
      }),
      ...(mode === "poisson" && row.workload.requestRate ? { arrivalRate: row.workload.requestRate } : {}),
      fixedLengths: row.workload.fixedLengths === true,
    },
    replicas: plan.config.replicas,
    mode,
    architecture: gpu.architecture,
  };
}

/** A row ready to score: its performance-model input and how many replicas share the work. */
export interface PreparedPerfRow {
  row: PerfRow;
  perfInput: RooflineInput;
  replicas: number;
  mode: string;
  architecture: string;
}

/** Predicted vs published for one prepared row under an efficiency entry. */
export function scorePerfRow(prepared: PreparedPerfRow, efficiency: Efficiency): PerfComparison[] {
  const { row } = prepared;
  const point = estimatePoint({ ...prepared.perfInput, efficiency });
  const perf = {
    ttftMs: { expected: point.ttftMs },
    tpotMs: { expected: point.tpotMs },
    outputTokensPerSecond: { expected: point.outputTokensPerSecond },
    perRequestTokensPerSecond: { expected: point.perRequestTokensPerSecond },
  };
  const out: PerfComparison[] = [];
  const add = (metric: PerfComparison["metric"], published: number | null, predicted: number) => {
    if (published !== null && published > 0) {
      out.push({
        id: row.id,
        metric,
        published,
        predicted,
        error: Math.abs(predicted - published) / published,
      });
    }
  };
  // offline runs over several replicas add their throughputs
  const throughputScale = prepared.mode === "offline" ? prepared.replicas : 1;
  add(
    "outputTokensPerSecond",
    row.result.outputTokensPerSecond,
    perf.outputTokensPerSecond.expected * throughputScale,
  );
  // an offline run's mean TTFT is set by how many requests were queued at once, which rows do not give
  if (prepared.mode !== "offline")
    add("ttftMs", row.result.meanTtftMs ?? row.result.medianTtftMs, perf.ttftMs.expected);
  add("tpotMs", row.result.meanTpotMs ?? row.result.medianTpotMs, perf.tpotMs.expected);
  add(
    "decodeTokensPerSecond",
    row.result.decodeTokensPerSecondSingleStream,
    perf.perRequestTokensPerSecond.expected,
  );
  // a static batch timed end to end (benchmark_latency) without a throughput figure: the batch latency
  // is the same measurement (batch x generated tokens / latency)
  if (
    prepared.mode === "static-batch" &&
    row.result.outputTokensPerSecond === null &&
    (row.result.meanE2eLatencyMs ?? null) !== null
  ) {
    const batch = Math.max(1, row.workload.batchSize ?? 1);
    const gen = row.workload.outputTokens ?? 128;
    add(
      "batchLatencyMs",
      row.result.meanE2eLatencyMs ?? null,
      (batch * gen * 1000) / Math.max(perf.outputTokensPerSecond.expected, 1e-9),
    );
  }
  if (row.result.prefillTokensPerSecond !== null) {
    add(
      "prefillTokensPerSecond",
      row.result.prefillTokensPerSecond,
      ((row.workload.inputTokens ?? 512) * 1000) / perf.ttftMs.expected,
    );
  }
  return out;
}

export async function evaluatePerf(options: { efficiency?: readonly Efficiency[] } = {}) {
  const [text, models, gpus, engines] = await Promise.all([
    readFile(join(BUILTIN_DATA_DIR, "calibration", "perf.jsonl"), "utf8"),
    loadModelCatalog(),
    loadGpuCatalog(),
    loadEngineCatalog(),
  ]);
  const rows = text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as PerfRow);
  const prepared: PreparedPerfRow[] = [];
  const skipped: Array<{ id: string; reason: string }> = [];
  for (const row of rows) {
    const result = comparePerfRow(row, { models, gpus, engines });
    if (typeof result === "string") skipped.push({ id: row.id, reason: result });
    else prepared.push(result);
  }
  const entries = options.efficiency ?? engines.efficiency;
  const comparisons = prepared.flatMap((p) =>
    scorePerfRow(
      p,
      selectEfficiency(entries, p.row.engine, p.architecture, p.perfInput.arch.moe ? "moe" : "dense"),
    ),
  );
  return { rows, prepared, comparisons, skipped };
}

export function medianError(
  comparisons: readonly PerfComparison[],
  metrics: ReadonlyArray<PerfComparison["metric"]>,
) {
  const errors = comparisons
    .filter((c) => metrics.includes(c.metric))
    .map((c) => c.error)
    .sort((a, b) => a - b);
  return { n: errors.length, median: errors[Math.floor((errors.length - 1) / 2)] ?? null };
}
