import { selectByVersion } from "../engines/version.js";
import type { VllmSpec } from "../engines/vllm-spec.js";
import type { GpuSpec } from "../gpu/gpu-spec.js";
import { gpuTarget } from "../memory/gpu-target.js";
import type { Architecture } from "../model/architecture.js";
import { type ConfigContext, evaluateConfig } from "./evaluate-config.js";
import type { UserEngineSettings } from "./types.js";
import { validTensorParallelSizes } from "./validate-settings.js";

export type FitPrecision = "native" | "fp8" | "fp8+fp8kv";

export interface FitRow {
  gpuId: string;
  gpu: string;
  count: number;
  precision: FitPrecision;
  tensorParallelSize: number;
  maxModelLen: number;
  weightsGiB: number;
  kvCacheGiB: number;
  kvTokens: number;
  maxConcurrency: number;
}

export interface FitInputs {
  arch: Architecture;
  gpus: readonly GpuSpec[];
  vllmSpecs: readonly VllmSpec[];
  engineVersion: string;
  maxModelLen?: number;
  /** Requests of maxModelLen tokens that must fit at once (default 1). */
  concurrency?: number;
  maxGpus?: number;
}

const GIB = 2 ** 30;

function precisionSettings(precision: FitPrecision): UserEngineSettings {
  if (precision === "fp8") return { quantization: "fp8" };
  if (precision === "fp8+fp8kv") return { quantization: "fp8", kvCacheDtype: "fp8" };
  return {};
}

/**
 * Which GPU types and counts serve a model: for every catalog GPU and precision, the fewest GPUs
 * (a valid tensor-parallel size up to `maxGpus`) whose KV cache holds `concurrency` requests of
 * `maxModelLen` tokens. Ranked by GPU count, then KV headroom. FP8 rows only where it is real:
 * an unquantized checkpoint on a GPU with FP8 support (a pre-quantized checkpoint is "native").
 */
export function fitAcrossCatalog(inputs: FitInputs): FitRow[] {
  const spec = selectByVersion(inputs.vllmSpecs, inputs.engineVersion, "vLLM");
  const want = inputs.concurrency ?? 1;
  const sizes = validTensorParallelSizes(inputs.arch, inputs.maxGpus ?? 8);
  const rows: FitRow[] = [];
  for (const gpu of inputs.gpus) {
    const precisions: FitPrecision[] = ["native"];
    if (gpu.fp8 && !inputs.arch.quantization) precisions.push("fp8", "fp8+fp8kv");
    const ctx: ConfigContext = {
      arch: inputs.arch,
      gpu,
      target: gpuTarget(gpu),
      engine: { engine: "vllm", spec },
      engineVersion: inputs.engineVersion,
      weightBytesTotal: 0,
      gpuCount: 8,
    };
    for (const precision of precisions) {
      for (const tp of sizes) {
        const settings: UserEngineSettings = {
          ...precisionSettings(precision),
          tensorParallelSize: tp,
          ...(inputs.maxModelLen !== undefined ? { maxModelLen: inputs.maxModelLen } : {}),
        };
        const result = evaluateConfig(ctx, settings);
        if (!result.fits || result.memory.kv.maxConcurrency < want) continue;
        rows.push({
          gpuId: gpu.id,
          gpu: gpu.name,
          count: tp,
          precision,
          tensorParallelSize: tp,
          maxModelLen: result.args.maxModelLen,
          weightsGiB: Math.round((result.memory.perRank.weights / GIB) * 100) / 100,
          kvCacheGiB: Math.round((result.memory.perRank.kvCache / GIB) * 100) / 100,
          kvTokens: result.memory.kv.tokens,
          maxConcurrency: Math.round(result.memory.kv.maxConcurrency * 100) / 100,
        });
        break;
      }
    }
  }
  return rows.sort((a, b) => a.count - b.count || b.kvCacheGiB * b.count - a.kvCacheGiB * a.count);
}
