import type { VllmSpec } from "../engines/vllm-spec.js";
import { ServepilotError } from "../errors.js";
import type { Architecture } from "../model/architecture.js";
import type { GpuMemoryTarget, ResolvedEngineArgs, UserEngineSettings } from "./types.js";

/** What the user passed (all optional); `resolveVllmArgs` fills the rest as vLLM would. */
export type VllmUserArgs = UserEngineSettings;

const GIB = 2 ** 30;

/** Whether vLLM gives this GPU its large scheduler defaults (vllm/engine/arg_utils.py get_batch_defaults). */
export function isLargeGpu(spec: VllmSpec, gpuName: string, totalBytes: number): boolean {
  const name = gpuName.toUpperCase();
  switch (spec.largeGpuRule) {
    case "all":
      return true;
    case "h100-h200-name":
      return name.includes("H100") || name.includes("H200");
    case "memory-70gib":
      return totalBytes >= 70 * GIB;
    case "memory-70gib-except-a100":
      return totalBytes >= 70 * GIB && !name.includes("A100");
  }
}

function majorCapability(gpu: GpuMemoryTarget): number {
  return gpu.computeCapability ? Number(gpu.computeCapability.split(".")[0]) : 0;
}

/**
 * dtype "auto" is the checkpoint's dtype; float32 checkpoints are served in bfloat16 (float16 where
 * bfloat16 is unsupported), and bfloat16 falls back to float16 below compute capability 8.0
 * (vllm/config/model.py _get_and_verify_dtype).
 */
export function resolveDtype(
  requested: string | undefined,
  arch: Architecture,
  gpu: GpuMemoryTarget,
): string {
  const bf16 = gpu.vendor === "amd" || majorCapability(gpu) >= 8;
  const wanted = !requested || requested === "auto" ? (arch.dtype ?? "bfloat16") : requested;
  const normalized =
    wanted === "float" || wanted === "float32" ? (requested === "float32" ? "float32" : "bfloat16") : wanted;
  if (normalized === "bfloat16" && !bf16) return "float16";
  return normalized;
}

export function resolveVllmArgs(
  user: VllmUserArgs,
  ctx: { arch: Architecture; gpu: GpuMemoryTarget; gpuName: string; spec: VllmSpec },
): ResolvedEngineArgs {
  const { arch, gpu, spec } = ctx;
  const large = isLargeGpu(spec, ctx.gpuName, gpu.totalBytes);
  const maxNumSeqs = user.maxNumSeqs ?? (large ? spec.maxNumSeqs.large : spec.maxNumSeqs.small);
  const maxModelLen = user.maxModelLen ?? arch.maxContext ?? 2048;
  const maxNumBatchedTokens =
    user.maxNumBatchedTokens ?? (large ? spec.maxNumBatchedTokens.large : spec.maxNumBatchedTokens.small);
  if (maxNumBatchedTokens < maxNumSeqs && user.maxNumBatchedTokens !== undefined) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--max-num-batched-tokens (${maxNumBatchedTokens}) must be at least --max-num-seqs (${maxNumSeqs})`,
    );
  }
  const major = majorCapability(gpu);
  const mlaBlock = arch.attention.mla
    ? major === 9
      ? spec.mlaBlockSize.hopper
      : major >= 10
        ? spec.mlaBlockSize.blackwell
        : null
    : null;
  return {
    tensorParallelSize: user.tensorParallelSize ?? 1,
    pipelineParallelSize: user.pipelineParallelSize ?? 1,
    maxModelLen,
    gpuMemoryUtilization: user.gpuMemoryUtilization ?? spec.defaultGpuMemoryUtilization,
    dtype: resolveDtype(user.dtype, arch, gpu),
    quantization: arch.quantization?.method ?? user.quantization ?? null,
    kvCacheDtype: user.kvCacheDtype ?? "auto",
    maxNumSeqs,
    maxNumBatchedTokens,
    blockSize: user.blockSize ?? mlaBlock ?? 16,
    enforceEager: user.enforceEager ?? false,
    ...(user.reservedBytes ? { reservedBytes: user.reservedBytes } : {}),
  };
}

/** Bytes per KV element: "auto" follows the model dtype; fp8 variants are one byte. */
export function kvDtypeBytes(kvCacheDtype: string, modelDtype: string): number {
  if (kvCacheDtype.startsWith("fp8")) return 1;
  const dtype = kvCacheDtype === "auto" ? modelDtype : kvCacheDtype;
  return dtype === "float32" ? 4 : 2;
}
