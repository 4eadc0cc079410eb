import type { GpuSpec } from "../../core/gpu/gpu-spec.js";
import type { ModelDescription } from "../../core/model/describe-model.js";
import { buildPlan } from "../../core/plan/build-plan.js";
import type { Plan, Workload } from "../../core/plan/types.js";
import type { Recipe } from "../../core/recipes/recipe.js";
import { recipeSettings } from "../../core/recipes/recipe-settings.js";
import type { EngineCatalog } from "../catalog/engine-catalog.js";

/**
 * The workload a recipe is judged with: 1k-token prompts, 256 generated tokens, 16 requests at once,
 * batched for the recipe's metric (the same as the built-in recipe acceptance test).
 */
export function recipeWorkload(metric: Workload["batchingMode"]): Workload {
  return { promptTokens: 1024, genTokens: 256, concurrency: 16, batchingMode: metric };
}

export interface RecipePlanContext {
  modelId: string;
  model: ModelDescription;
  gpu: GpuSpec;
  engines: EngineCatalog;
  /** Free memory per GPU at start (detected GPUs), bytes. */
  freeBytes?: number | null;
  ggufTensors?: ReadonlyArray<{ name: string; shape: readonly number[]; ggmlType: string }> | null;
}

/** Plans a recipe on `gpu` with its GPU count, engine release and settings, on one node. */
export function planRecipeOn(recipe: Recipe, context: RecipePlanContext): Plan {
  return buildPlan({
    modelId: context.modelId,
    model: context.model,
    gpu: context.gpu,
    gpuCount: recipe.gpuCount,
    nodes: 1,
    gpusPerNode: recipe.gpuCount,
    freeBytes: context.freeBytes ?? null,
    engine: recipe.engine,
    engineVersion: recipe.engineVersion,
    engineSpecs: context.engines,
    efficiency: context.engines.efficiency,
    ...(context.ggufTensors ? { ggufTensors: context.ggufTensors } : {}),
    user: recipeSettings(recipe),
    workload: recipeWorkload(recipe.metric),
  });
}

/** The figures show-config and list print for one planned configuration. */
export interface PlannedFigures {
  fits: boolean;
  reasons: string[];
  tensorParallelSize: number;
  pipelineParallelSize: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  kvCache: { tokens: number; maxConcurrency: number; kvCacheGiB: number; bytesPerTokenPerGpu: number };
  outputTokensPerSecond: number;
  serveCommand: string;
  /** The same command as an argv array (program first): what a launch runs. */
  serveArgv: string[];
  /** Weights per GPU rank (GiB), as the engine prints "Model loading took X GiB". */
  weightsGiB: number;
  warnings: string[];
}

export function planFigures(plan: Plan): PlannedFigures {
  return {
    fits: plan.fits,
    reasons: plan.reasons,
    tensorParallelSize: plan.config.tensorParallelSize,
    pipelineParallelSize: plan.config.pipelineParallelSize,
    maxModelLen: plan.config.maxModelLen,
    gpuMemoryUtilization: plan.config.gpuMemoryUtilization,
    kvCache: {
      tokens: plan.kvCache.tokens,
      maxConcurrency: plan.kvCache.maxConcurrency,
      kvCacheGiB: plan.memory.perGpu.kvCacheGiB,
      bytesPerTokenPerGpu: plan.kvCache.bytesPerTokenPerGpu,
    },
    outputTokensPerSecond: plan.performance.outputTokensPerSecond.expected,
    serveCommand: plan.artifacts.serveCommand,
    serveArgv: plan.artifacts.serveArgv,
    weightsGiB: plan.memory.perGpu.weightsGiB,
    warnings: plan.warnings,
  };
}
