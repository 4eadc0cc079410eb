import type { GpuSpec } from "../../core/gpu/gpu-spec.js";
import type { EngineName } from "../../core/memory/types.js";
import type { Architecture } from "../../core/model/architecture.js";
import type { ModelDescription } from "../../core/model/describe-model.js";
import { buildPlan } from "../../core/plan/build-plan.js";
import type { Plan, UserEngineSettings } from "../../core/plan/types.js";
import type { RecipeMetric, RecipePrecision } from "../../core/recipes/recipe.js";
import type { EngineCatalog } from "../catalog/engine-catalog.js";
import { type PlannedFigures, planFigures, recipeWorkload } from "./plan-recipe.js";

/** The configuration the planner chooses when no recipe qualifies (docs/recipes.md). */
export interface GeneratedConfig extends PlannedFigures {
  generated: true;
  engine: EngineName;
  engineVersion: string;
  gpuCount: number;
  precision: string;
  metric: RecipeMetric | null;
  why: string;
}

/** The precision a checkpoint runs at without online quantization. */
export function checkpointPrecision(arch: Architecture): string {
  const quant = arch.quantization;
  if (quant === null) return arch.dtype === "float16" ? "fp16" : "bf16";
  if (quant.scheme === "mxfp4") return "mxfp4";
  if (quant.scheme.includes("fp8") || quant.method === "fp8") return "fp8";
  if (quant.weightBits === 4) return "int4";
  if (quant.weightBits === 8) return "int8";
  return quant.scheme;
}

export interface GenerateConfigInput {
  modelId: string;
  model: ModelDescription;
  gpu: GpuSpec;
  gpuCount: number;
  freeBytes: number | null;
  engines: EngineCatalog;
  engine?: EngineName | undefined;
  precision?: RecipePrecision | undefined;
  metric?: RecipeMetric | undefined;
  ggufTensors?: ReadonlyArray<{ name: string; shape: readonly number[]; ggmlType: string }> | null;
  /** Settings to impose over the planner's choices (a launch failure's fix is planned this way). */
  overrides?: UserEngineSettings;
}

/**
 * Settings that reach the requested precision from this checkpoint: a 16-bit checkpoint runs in the
 * dtype asked for, or is quantized to FP8 on load on a GPU with FP8; anything else needs a quantized
 * checkpoint, so the checkpoint's own precision is used and a warning says so.
 */
function precisionSettings(input: GenerateConfigInput): {
  user: UserEngineSettings;
  precision: string;
  warnings: string[];
} {
  const own = checkpointPrecision(input.model.architecture);
  const wanted = input.precision;
  if (wanted === undefined || wanted === own) return { user: {}, precision: own, warnings: [] };
  const unquantized = input.model.architecture.quantization === null;
  if (unquantized && (wanted === "bf16" || wanted === "fp16")) {
    return { user: { dtype: wanted === "bf16" ? "bfloat16" : "float16" }, precision: wanted, warnings: [] };
  }
  if (unquantized && wanted === "fp8" && input.gpu.fp8) {
    return { user: { quantization: "fp8" }, precision: "fp8", warnings: [] };
  }
  return {
    user: {},
    precision: own,
    warnings: [
      `--precision ${wanted}: ${input.modelId} is a ${own} checkpoint and the planner cannot turn it into ${wanted}${wanted === "fp8" ? ` on ${input.gpu.name} (no FP8 support)` : ""}; planned at ${own} (use a ${wanted} checkpoint)`,
    ],
  };
}

export function generateConfig(input: GenerateConfigInput): GeneratedConfig {
  return generateConfigWithPlan(input).config;
}

/** The generated configuration and the plan it comes from (a launch needs the plan for docker). */
export function generateConfigWithPlan(input: GenerateConfigInput): { config: GeneratedConfig; plan: Plan } {
  const engine = input.engine ?? "vllm";
  const { user, precision, warnings } = precisionSettings(input);
  const plan = buildPlan({
    modelId: input.modelId,
    model: input.model,
    gpu: input.gpu,
    gpuCount: input.gpuCount,
    nodes: 1,
    gpusPerNode: input.gpuCount,
    freeBytes: input.freeBytes,
    engine,
    engineVersion: null,
    engineSpecs: input.engines,
    efficiency: input.engines.efficiency,
    ...(input.ggufTensors ? { ggufTensors: input.ggufTensors } : {}),
    user: { ...user, ...input.overrides },
    workload: recipeWorkload(input.metric ?? "balanced"),
  });
  const figures = planFigures(plan);
  const config: GeneratedConfig = {
    generated: true,
    engine,
    engineVersion: plan.config.engineVersion,
    gpuCount: input.gpuCount,
    precision,
    metric: input.metric ?? null,
    why: "no recipe qualifies: the planner's own configuration for this model and these GPUs",
    ...figures,
    warnings: [...warnings, ...figures.warnings],
  };
  return { config, plan };
}
