import type { VllmSpec } from "../engines/vllm-spec.js";
import type { GpuSpec } from "../gpu/gpu-spec.js";
import { planVllmMemory } from "../memory/vllm.js";
import { resolveVllmArgs } from "../memory/vllm-args.js";
import type { GpuMemoryTarget, MemoryPlan, ResolvedEngineArgs } from "../memory/types.js";
import type { Architecture } from "../model/architecture.js";
import type { UserEngineSettings } from "./types.js";

export interface ConfigContext {
  arch: Architecture;
  gpu: GpuSpec;
  target: GpuMemoryTarget;
  spec: VllmSpec;
  engineVersion: string;
}

export interface EvaluatedConfig {
  args: ResolvedEngineArgs;
  memory: MemoryPlan;
  fits: boolean;
}

/** Resolves settings as the engine would and runs its memory accounting: one candidate configuration. */
export function evaluateConfig(ctx: ConfigContext, settings: UserEngineSettings): EvaluatedConfig {
  const args = resolveVllmArgs(settings, { arch: ctx.arch, gpu: ctx.target, gpuName: ctx.gpu.name, spec: ctx.spec });
  const memory = planVllmMemory({ arch: ctx.arch, gpu: ctx.target, args, spec: ctx.spec, engineVersion: ctx.engineVersion });
  return { args, memory, fits: memory.failures.length === 0 };
}
