/**
 * What a studio launch asks for: the HTTP body (the CLI's launch options that make sense remotely),
 * validated strictly — unknown keys are refused, and no engine program, Python path or environment
 * can be given (those come only from the studio's options and environment). Also how the body becomes
 * the runtime's LaunchRequest, and how an instance name is chosen before the launch starts.
 */
import { z } from "zod";
import { RECIPE_METRICS, RECIPE_PRECISIONS } from "../../core/recipes/recipe.js";
import { deploymentName } from "../../core/render/build-deployment.js";
import { INSTANCE_ENGINES, INSTANCE_NAME } from "../../runtime/supervisor/instance.js";
import type { LaunchRequest } from "../../runtime/supervisor/launch.js";

export const InstanceNameSchema = z
  .string()
  .regex(
    INSTANCE_NAME,
    "an instance name: lowercase letters, digits, '.', '_' or '-', at most 63, starting with a letter or digit",
  )
  .describe("Instance name (a lowercase slug; also names its log file).");

export const LaunchBodySchema = z
  .object({
    model: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        "Model: a Hugging Face repo id (Qwen/Qwen3-8B), a local model directory or a .gguf file. Optional with recipeId (the recipe names it).",
      ),
    gpuCount: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe("GPUs to use (default: what the configuration needs)."),
    engine: z.enum(INSTANCE_ENGINES).optional().describe("Engine (default: the best recipe's, else vLLM)."),
    precision: z.enum(RECIPE_PRECISIONS).optional().describe("Weight precision filter for recipe selection."),
    metric: z.enum(RECIPE_METRICS).optional().describe("Optimise for latency or throughput."),
    recipeId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, "a recipe id (lowercase slug)")
      .optional()
      .describe("Launch this recipe: a stored (studio) recipe, a file recipe or a built-in one."),
    name: InstanceNameSchema.optional().describe(
      "Instance name (default: a slug of the model, unique among the instances).",
    ),
    port: z
      .number()
      .int()
      .min(1024)
      .max(65_535)
      .optional()
      .describe("Engine port (default: the first free from 8000)."),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .optional()
      .describe("Seconds to wait for readiness (default scaled to the model's size)."),
    maxModelLen: z.number().int().min(1).optional().describe("Override: maximum model length (tokens)."),
    gpuMemoryUtilization: z
      .number()
      .gt(0)
      .lte(1)
      .optional()
      .describe("Override: fraction of GPU memory the engine may use (0-1]."),
    enforceEager: z.boolean().optional().describe("Override: disable CUDA graphs."),
    trustRemoteCode: z
      .boolean()
      .optional()
      .describe("Pass --trust-remote-code (runs the model repo's code)."),
    threads: z.number().int().min(1).max(1024).optional().describe("Embedded engine: CPU threads."),
    autoRestart: z
      .boolean()
      .optional()
      .describe(
        "Restart it when it dies (3 failures in 10 minutes stop the retries). Default: the stored recipe's, else false.",
      ),
    onDemand: z
      .boolean()
      .optional()
      .describe(
        "Once stopped (by hand or by idleTtlSeconds), a gateway request for its model starts it again with this request. Default: the stored recipe's, else false.",
      ),
    idleTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .nullable()
      .optional()
      .describe(
        "Seconds without gateway requests after which the gateway stops it. Default: the stored recipe's, else never.",
      ),
  })
  .strict()
  .refine((body) => body.model !== undefined || body.recipeId !== undefined, {
    message: "give model, recipeId or both",
    path: ["model"],
  });

export type LaunchBody = z.infer<typeof LaunchBodySchema>;

export const SwitchBodySchema = z
  .object({
    stop: InstanceNameSchema.describe("The instance to stop."),
    launch: LaunchBodySchema.describe("What to launch once it is stopped (the body of POST /api/instances)."),
  })
  .strict();

/** The runtime request for a studio launch. Engine programs come from the studio's options only. */
export function toRuntimeRequest(
  body: LaunchBody & { model: string },
  name: string,
  settings: {
    recipesDir: string | null;
    enginePrograms: LaunchRequest["enginePrograms"];
    extraRecipes?: LaunchRequest["extraRecipes"];
    extraArgs?: string[];
  },
): LaunchRequest {
  const overrides = {
    ...(body.maxModelLen !== undefined ? { maxModelLen: body.maxModelLen } : {}),
    ...(body.gpuMemoryUtilization !== undefined ? { gpuMemoryUtilization: body.gpuMemoryUtilization } : {}),
    ...(body.enforceEager ? { enforceEager: true } : {}),
  };
  return {
    model: body.model,
    name,
    ...(body.gpuCount !== undefined ? { gpuCount: body.gpuCount } : {}),
    ...(body.engine !== undefined ? { engine: body.engine } : {}),
    ...(body.precision !== undefined ? { precision: body.precision } : {}),
    ...(body.metric !== undefined ? { metric: body.metric } : {}),
    ...(body.recipeId !== undefined ? { recipeId: body.recipeId } : {}),
    ...(settings.recipesDir !== null ? { recipesDir: settings.recipesDir } : {}),
    ...(body.port !== undefined ? { port: body.port } : {}),
    ...(body.timeoutSeconds !== undefined ? { timeoutSeconds: body.timeoutSeconds } : {}),
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
    ...(body.trustRemoteCode ? { trustRemoteCode: true } : {}),
    ...(body.threads !== undefined ? { threads: body.threads } : {}),
    ...(settings.enginePrograms ? { enginePrograms: settings.enginePrograms } : {}),
    ...(settings.extraRecipes && settings.extraRecipes.length > 0
      ? { extraRecipes: settings.extraRecipes }
      : {}),
    ...(settings.extraArgs && settings.extraArgs.length > 0 ? { extraArgs: settings.extraArgs } : {}),
  };
}

/** The slug an instance of `model` is named after (a path's file name, without .gguf). */
export function nameBase(model: string): string {
  const last =
    model
      .replace(/[\\/]+$/, "")
      .split(/[\\/]/)
      .pop() ?? model;
  const looksLikePath = model.startsWith("/") || model.startsWith(".") || /\.gguf$/i.test(model);
  return deploymentName(looksLikePath ? last.replace(/\.gguf$/i, "") : model).slice(0, 56);
}

/** A name for a launch: the one asked for, else the model's slug, suffixed -2, -3 … until unused. */
export function chooseInstanceName(model: string, taken: ReadonlySet<string>): string {
  const base = nameBase(model);
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(name)) return name;
  }
}
