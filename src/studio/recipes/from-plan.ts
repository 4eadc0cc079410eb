/**
 * A recipe made from a plan: the planner's configuration for a model on a GPU, stored so that it can
 * be launched again. Every planned setting the recipe format can hold is written into engineArgs,
 * so the recipe plans (and launches) to the same figures.
 */
import { z } from "zod";
import type { Plan } from "../../core/plan/types.js";
import { RECIPE_METRICS, RecipeEngineArgsSchema } from "../../core/recipes/recipe.js";
import { checkpointPrecision } from "../../runtime/recipes/generate-config.js";
import { PlanBodySchema } from "../catalog/schemas.js";

export const FromPlanBodySchema = PlanBodySchema.extend({
  id: z
    .string()
    .max(120)
    .optional()
    .describe("recipe id (a lowercase slug); default: derived from the model, GPU, precision and metric"),
  metric: z
    .enum(RECIPE_METRICS)
    .optional()
    .describe("what the recipe is tuned for (default: from batchingMode, else throughput)"),
  notes: z.string().max(4000).optional().describe("free text kept with the recipe"),
  extraArgs: z.array(z.string()).optional().describe("raw engine flags (checked like any recipe's)"),
  autoRestart: z.boolean().optional().describe("the watchdog restarts the instance when it dies"),
}).strict();
export type FromPlanBody = z.output<typeof FromPlanBodySchema>;

/** A lowercase slug from free text ("Qwen/Qwen3-8B" → "qwen3-8b"). */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/[-.]{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
}

/** The recipe's precision: online FP8 if the plan quantizes, else the checkpoint's. */
function planPrecision(plan: Plan): string {
  if (plan.config.quantization === "fp8" && plan.model.architecture.quantization === null) return "fp8";
  if (plan.config.dtype === "float16" && plan.model.architecture.quantization === null) return "fp16";
  return checkpointPrecision(plan.model.architecture);
}

/** engineArgs holding the plan's configuration (only values the recipe format accepts). */
function planEngineArgs(plan: Plan): Record<string, unknown> {
  const c = plan.config;
  const candidate: Record<string, unknown> = {
    tensorParallelSize: c.tensorParallelSize,
    pipelineParallelSize: c.pipelineParallelSize,
    maxModelLen: c.maxModelLen,
    gpuMemoryUtilization: c.gpuMemoryUtilization,
    dtype: c.dtype,
    quantization: c.quantization ?? undefined,
    kvCacheDtype: c.kvCacheDtype,
    maxNumSeqs: c.maxNumSeqs,
    maxNumBatchedTokens: c.maxNumBatchedTokens,
    blockSize: c.blockSize,
    enforceEager: c.enforceEager,
  };
  const shape = RecipeEngineArgsSchema.shape;
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(candidate)) {
    const field = shape[key as keyof typeof shape];
    if (value !== undefined && field.safeParse(value).success) args[key] = value;
  }
  return args;
}

/** The recipe document for a plan (validated by the caller with parseStudioRecipe). */
export function recipeDocumentFromPlan(plan: Plan, body: FromPlanBody): Record<string, unknown> {
  const precision = planPrecision(plan);
  const metric = body.metric ?? (body.batchingMode === "latency" ? "latency" : "throughput");
  const modelName = plan.model.id.split("/").pop() ?? plan.model.id;
  const id = body.id ?? slugify(`${modelName}-${plan.hardware.gpuId}-${precision}-${metric}`);
  return {
    id,
    model: plan.model.id,
    engine: plan.config.engine,
    engineVersion: plan.config.engineVersion,
    hardware: [plan.hardware.gpuId],
    gpuCount: plan.hardware.count,
    precision,
    metric,
    engineArgs: planEngineArgs(plan),
    env: {},
    notes:
      body.notes ??
      `made by the studio from a plan: ${plan.fits ? "fits" : "does not fit"}; ${plan.kvCache.tokens} KV tokens, max concurrency ${plan.kvCache.maxConcurrency.toFixed(2)}`,
    source: `https://huggingface.co/${plan.model.id}`,
    extraArgs: body.extraArgs ?? [],
    autoRestart: body.autoRestart ?? false,
  };
}
