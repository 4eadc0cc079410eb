import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { selectByVersion } from "../../core/engines/version.js";
import type { GpuSpec } from "../../core/gpu/gpu-spec.js";
import { matchDetectedGpu, matchGpu } from "../../core/gpu/match-gpu.js";
import { customGpuFromMemory } from "../../core/gpu/memory-size.js";
import { gpuTarget } from "../../core/memory/gpu-target.js";
import { planVllmMemory, vllmKvLayout } from "../../core/memory/vllm.js";
import { resolveVllmArgs, type VllmUserArgs } from "../../core/memory/vllm-args.js";
import { kvCapacity } from "../../core/memory/vllm-kv.js";
import { parseConfig } from "../../core/model/parse-config.js";
import { loadEngineCatalog } from "../catalog/engine-catalog.js";
import { loadGpuCatalog } from "../catalog/gpu-catalog.js";
import { loadModelCatalog } from "../catalog/model-catalog.js";
import { BUILTIN_DATA_DIR } from "../paths.js";

/** One row of data/calibration/vllm-memory.jsonl (fields this evaluation reads). */
interface CalibrationRow {
  id: string;
  source: string;
  engineVersion: string | null;
  model: string;
  gpu: string;
  tensorParallelSize: number | null;
  pipelineParallelSize: number | null;
  outcome?: string;
  v1?: boolean | null;
  args: Record<string, unknown>;
  observed: {
    totalGpuMemoryGiB: number | null;
    weightsGiB: number | null;
    kvCacheGiB: number | null;
    kvCacheTokens: number | null;
    maxConcurrency: number | null;
  };
}

export interface EvaluatedRow {
  id: string;
  version: string;
  observed: CalibrationRow["observed"];
  predicted: {
    weightsGiB: number;
    kvCacheGiB: number;
    kvCacheTokens: number;
    maxConcurrency: number;
    failure: string | null;
  };
  /**
   * Tokens our KV layout gives for the KV memory vLLM printed (isolates page sizes and grouping from
   * the budget estimate); null when the row lacks either figure.
   */
  tokensFromObservedKv: number | null;
  /** Uniform full-attention model (no sliding / MLA / hybrid groups). */
  standardAttention: boolean;
  errors: { weights: number | null; kvCache: number | null; tokens: number | null };
}

const GIB = 2 ** 30;

function relError(predicted: number, observed: number | null): number | null {
  if (observed === null || observed === 0) return null;
  return Math.abs(predicted - observed) / Math.abs(observed);
}

function userArgs(row: CalibrationRow): VllmUserArgs {
  const a = row.args;
  const pick = <T>(key: string) => (a[key] === null || a[key] === undefined ? undefined : (a[key] as T));
  return {
    tensorParallelSize: row.tensorParallelSize ?? 1,
    pipelineParallelSize: row.pipelineParallelSize ?? 1,
    ...(pick<number>("gpuMemoryUtilization") !== undefined
      ? { gpuMemoryUtilization: pick<number>("gpuMemoryUtilization") }
      : {}),
    ...(pick<number>("maxModelLen") !== undefined ? { maxModelLen: pick<number>("maxModelLen") } : {}),
    ...(pick<number>("maxNumSeqs") !== undefined ? { maxNumSeqs: pick<number>("maxNumSeqs") } : {}),
    ...(pick<number>("maxNumBatchedTokens") !== undefined
      ? { maxNumBatchedTokens: pick<number>("maxNumBatchedTokens") }
      : {}),
    ...(pick<boolean>("enforceEager") !== undefined ? { enforceEager: pick<boolean>("enforceEager") } : {}),
    ...(pick<string>("kvCacheDtype") !== undefined ? { kvCacheDtype: pick<string>("kvCacheDtype") } : {}),
    ...(pick<string>("quantization") !== undefined ? { quantization: pick<string>("quantization") } : {}),
    ...(pick<string>("dtype") !== undefined ? { dtype: pick<string>("dtype") } : {}),
    ...(pick<number>("blockSize") !== undefined ? { blockSize: pick<number>("blockSize") } : {}),
  };
}

/** Re-plans every calibration row the catalogs can describe and compares with what vLLM printed. */
export async function evaluateCalibration(file = join(BUILTIN_DATA_DIR, "calibration", "vllm-memory.jsonl")) {
  const [text, models, gpus, engines] = await Promise.all([
    readFile(file, "utf8"),
    loadModelCatalog(),
    loadGpuCatalog(),
    loadEngineCatalog(),
  ]);
  const rows: EvaluatedRow[] = [];
  const skipped: Array<{ id: string; reason: string }> = [];
  for (const line of text.split("\n").filter((l) => l.trim())) {
    const row = JSON.parse(line) as CalibrationRow;
    if (row.v1 === false) {
      skipped.push({ id: row.id, reason: "V0 engine (servepilot models vLLM V1, 0.8 and newer)" });
      continue;
    }
    if (!row.engineVersion) {
      skipped.push({ id: row.id, reason: "vLLM version not known" });
      continue;
    }
    const entry = models.find(row.model);
    if (!entry) {
      skipped.push({ id: row.id, reason: `model ${row.model} not in the catalog` });
      continue;
    }
    let gpu: GpuSpec | null = matchDetectedGpu(row.gpu, null, gpus)?.entry ?? null;
    if (!gpu) {
      try {
        gpu = matchGpu(row.gpu.replace(/\(.*\)/, "").trim(), gpus).entry;
      } catch {
        // an unnamed GPU whose total the log printed is planned as a custom GPU of that size
        if (row.observed.totalGpuMemoryGiB === null) {
          skipped.push({ id: row.id, reason: `GPU ${JSON.stringify(row.gpu)} not in the catalog` });
          continue;
        }
        gpu = customGpuFromMemory(`${row.observed.totalGpuMemoryGiB}GiB`);
      }
    }
    const version = row.engineVersion;
    let spec: ReturnType<typeof selectByVersion<(typeof engines.vllm)[number]>>;
    try {
      spec = selectByVersion(engines.vllm, version, "vLLM");
    } catch {
      skipped.push({ id: row.id, reason: `vLLM ${version} is older than the releases modelled` });
      continue;
    }
    const { architecture: arch } = parseConfig(entry.config, { label: entry.id });
    const target = gpuTarget(gpu, { totalGiB: row.observed.totalGpuMemoryGiB });
    const args = resolveVllmArgs(userArgs(row), { arch, gpu: target, gpuName: row.gpu, spec });
    const plan = planVllmMemory({ arch, gpu: target, args, spec, engineVersion: version });
    const predicted = {
      weightsGiB: plan.perRank.weights / GIB,
      kvCacheGiB: plan.perRank.kvCache / GIB,
      kvCacheTokens: plan.kv.tokens,
      maxConcurrency: plan.kv.maxConcurrency,
      failure: plan.failures[0]?.kind ?? null,
    };
    const layout = vllmKvLayout(arch, args, spec);
    const observedKv = row.observed.kvCacheGiB;
    rows.push({
      id: row.id,
      tokensFromObservedKv:
        observedKv !== null && observedKv > 0 && row.observed.kvCacheTokens !== null
          ? kvCapacity(layout, observedKv * GIB, args.maxModelLen, spec).tokens
          : null,
      standardAttention: arch.layers.every((layer) => layer.attention === "full"),
      version,
      observed: row.observed,
      predicted,
      errors: {
        weights: relError(predicted.weightsGiB, row.observed.weightsGiB),
        kvCache: relError(predicted.kvCacheGiB, row.observed.kvCacheGiB),
        tokens: relError(predicted.kvCacheTokens, row.observed.kvCacheTokens),
      },
    });
  }
  return { rows, skipped };
}

function stats(values: Array<number | null>) {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: sorted[Math.floor((sorted.length - 1) / 2)] ?? null,
    max: sorted.at(-1) ?? null,
  };
}

export function summarize(rows: readonly EvaluatedRow[]) {
  return {
    weights: stats(rows.map((r) => r.errors.weights)),
    kvCache: stats(rows.map((r) => r.errors.kvCache)),
    tokens: stats(rows.map((r) => r.errors.tokens)),
  };
}
