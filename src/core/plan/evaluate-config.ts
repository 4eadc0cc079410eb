import type { LlamaCppSpec } from "../engines/llamacpp-spec.js";
import type { SglangSpec } from "../engines/sglang-spec.js";
import type { VllmSpec } from "../engines/vllm-spec.js";
import type { GpuSpec } from "../gpu/gpu-spec.js";
import { planLlamaCppMemory } from "../memory/llamacpp.js";
import { planSglangMemory, resolveSglangGpuDefaults } from "../memory/sglang.js";
import type { GpuMemoryTarget, MemoryPlan, ResolvedEngineArgs } from "../memory/types.js";
import { planVllmMemory } from "../memory/vllm.js";
import { resolveDtype, resolveVllmArgs } from "../memory/vllm-args.js";
import type { Architecture } from "../model/architecture.js";
import type { UserEngineSettings } from "./types.js";

/** The engine a plan targets, with the release data that applies. */
export type EngineData =
  | { engine: "vllm"; spec: VllmSpec }
  | { engine: "sglang"; spec: SglangSpec }
  | { engine: "llamacpp"; spec: LlamaCppSpec };

export interface ConfigContext {
  arch: Architecture;
  gpu: GpuSpec;
  target: GpuMemoryTarget;
  engine: EngineData;
  engineVersion: string;
  /** Checkpoint weight bytes, all ranks together (SGLang and llama.cpp size weights from it). */
  weightBytesTotal: number;
  gpuCount: number;
  /** GGUF tensors when the model came as a GGUF file (llama.cpp splits layers exactly). */
  ggufTensors?: ReadonlyArray<{ name: string; shape: readonly number[]; ggmlType: string }>;
}

export interface EvaluatedConfig {
  args: ResolvedEngineArgs;
  memory: MemoryPlan;
  fits: boolean;
}

/** SGLang's launch defaults: --mem-fraction-static from GPU memory and TP, chunked prefill, page size 1. */
function resolveSglangArgs(ctx: ConfigContext, spec: SglangSpec, s: UserEngineSettings): ResolvedEngineArgs {
  const tp = s.tensorParallelSize ?? 1;
  const smiGiB = ctx.gpu.memory.smiTotalMiB
    ? ctx.gpu.memory.smiTotalMiB / 1024
    : ctx.target.totalBytes / 2 ** 30;
  const defaults = resolveSglangGpuDefaults(spec, smiGiB, tp, {
    pipelineParallelSize: s.pipelineParallelSize ?? 1,
    mla: ctx.arch.attention.mla !== null,
  });
  const kv = s.kvCacheDtype ?? "auto";
  return {
    tensorParallelSize: tp,
    pipelineParallelSize: s.pipelineParallelSize ?? 1,
    maxModelLen: s.maxModelLen ?? ctx.arch.maxContext ?? 4096,
    gpuMemoryUtilization: s.gpuMemoryUtilization ?? defaults.memFractionStatic,
    dtype: resolveDtype(s.dtype, ctx.arch, ctx.target),
    quantization: ctx.arch.quantization?.method ?? s.quantization ?? null,
    // SGLang spells fp8 KV as fp8_e4m3 / fp8_e5m2 (python/sglang/srt/server_args.py)
    kvCacheDtype: kv === "fp8" ? "fp8_e4m3" : kv,
    maxNumSeqs: s.maxNumSeqs ?? 0,
    maxNumBatchedTokens: s.maxNumBatchedTokens ?? defaults.chunkedPrefillSize ?? 8192,
    blockSize: s.blockSize ?? 1,
    enforceEager: s.enforceEager ?? false,
  };
}

/** llama-server's settings: -c total context (shared by --parallel slots), f16 KV cache by default. */
function resolveLlamaCppArgs(ctx: ConfigContext, s: UserEngineSettings): ResolvedEngineArgs {
  const kv = s.kvCacheDtype ?? "auto";
  return {
    tensorParallelSize: s.tensorParallelSize ?? 1,
    pipelineParallelSize: 1,
    maxModelLen: s.maxModelLen ?? ctx.arch.maxContext ?? 4096,
    gpuMemoryUtilization: s.gpuMemoryUtilization ?? 1,
    dtype: resolveDtype(s.dtype, ctx.arch, ctx.target),
    quantization: ctx.arch.quantization?.method ?? null,
    kvCacheDtype: kv === "auto" || kv === "float16" ? "f16" : kv.startsWith("fp8") ? "q8_0" : kv,
    maxNumSeqs: s.maxNumSeqs ?? 4,
    maxNumBatchedTokens: s.maxNumBatchedTokens ?? 2048,
    blockSize: 1,
    enforceEager: false,
  };
}

/** Resolves settings as the engine would and runs its memory accounting: one candidate configuration. */
export function evaluateConfig(ctx: ConfigContext, settings: UserEngineSettings): EvaluatedConfig {
  let args: ResolvedEngineArgs;
  let memory: MemoryPlan;
  const data = ctx.engine;
  switch (data.engine) {
    case "vllm":
      args = resolveVllmArgs(settings, {
        arch: ctx.arch,
        gpu: ctx.target,
        gpuName: ctx.gpu.name,
        spec: data.spec,
      });
      memory = planVllmMemory({
        arch: ctx.arch,
        gpu: ctx.target,
        args,
        spec: data.spec,
        engineVersion: ctx.engineVersion,
      });
      break;
    case "sglang":
      args = resolveSglangArgs(ctx, data.spec, settings);
      memory = planSglangMemory({
        arch: ctx.arch,
        weightBytesTotal: ctx.weightBytesTotal,
        gpu: ctx.target,
        args,
        spec: data.spec,
        engineVersion: ctx.engineVersion,
      });
      break;
    case "llamacpp":
      args = resolveLlamaCppArgs(ctx, settings);
      memory = planLlamaCppMemory({
        arch: ctx.arch,
        weightBytesTotal: ctx.weightBytesTotal,
        gpu: ctx.target,
        gpuCount: Math.max(1, args.tensorParallelSize),
        args,
        nGpuLayers: "all",
        spec: data.spec,
        engineVersion: ctx.engineVersion,
        ...(ctx.ggufTensors ? { ggufTensors: ctx.ggufTensors } : {}),
      });
      break;
  }
  return { args, memory, fits: memory.failures.length === 0 };
}
