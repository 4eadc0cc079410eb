import type { Command } from "commander";
import type { EngineName } from "../../core/memory/types.js";
import type { RecipeMetric, RecipePrecision } from "../../core/recipes/recipe.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { oneOf, positiveInt } from "../options.js";

/** AIM Engine's `--format table|json`: `json` prints the same envelope as the global `--json`. */
export const parseFormat = oneOf("--format", ["table", "json"] as const);

export function applyFormat(ctx: CommandContext, format: "table" | "json" | undefined): void {
  if (format === "json") ctx.output.json = true;
}

export interface ShowConfigFlags {
  gpuCount?: number;
  gpu?: string;
  precision?: string;
  engine?: string;
  metric?: string;
  recipesDir?: string;
  offline?: boolean;
  format?: "table" | "json";
}

/** Checks --precision, --engine and --metric against the recipe schema's values (loaded lazily: zod). */
export async function resolveRecipeFilters(flags: Pick<ShowConfigFlags, "precision" | "engine" | "metric">) {
  const { RECIPE_ENGINES, RECIPE_METRICS, RECIPE_PRECISIONS } = await import("../../core/recipes/recipe.js");
  return {
    ...(flags.precision !== undefined
      ? { precision: oneOf("--precision", RECIPE_PRECISIONS)(flags.precision) as RecipePrecision }
      : {}),
    ...(flags.engine !== undefined
      ? { engine: oneOf("--engine", RECIPE_ENGINES)(flags.engine) as EngineName }
      : {}),
    ...(flags.metric !== undefined
      ? { metric: oneOf("--metric", RECIPE_METRICS)(flags.metric) as RecipeMetric }
      : {}),
  };
}

async function runShowConfig(
  ctx: CommandContext,
  model: string,
  flags: ShowConfigFlags,
): Promise<CommandResult> {
  applyFormat(ctx, flags.format);
  const filters = await resolveRecipeFilters(flags);
  const { showConfig } = await import("../../runtime/recipes/show-config.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { renderShowConfig } = await import("../render/show-config.js");
  const result = await showConfig(
    {
      model,
      ...filters,
      ...(flags.gpuCount !== undefined ? { gpuCount: flags.gpuCount } : {}),
      ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
      ...(flags.recipesDir !== undefined ? { recipesDir: flags.recipesDir } : {}),
      ...(flags.offline ? { offline: true } : {}),
    },
    { dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }), env: ctx.env },
  );
  return { data: result, human: renderShowConfig(result, ctx.colors) };
}

export function registerShowConfig(program: Command): void {
  program
    .command("show-config")
    .description(
      "the recipes that can serve a model on these GPUs, best first, or the planner's configuration",
    )
    .argument("<model>", "Hugging Face repo id or catalog alias")
    .option("--gpu-count <n>", "GPUs to use (default: the free GPUs detected)", positiveInt("--gpu-count"))
    .option("--gpu <name>", "GPU type from the catalog (default: detect the GPUs here)")
    .option("--precision <p>", "bf16, fp16, fp8, int8, int4 or mxfp4")
    .option("--engine <engine>", "vllm, sglang or llamacpp")
    .option("--metric <metric>", "latency or throughput (ranks matching recipes first)")
    .option(
      "--recipes-dir <dir>",
      "your recipes (default: <data-dir>/recipes/), merged over the built-ins by id",
    )
    .option("--offline", "do not contact the Hugging Face Hub")
    .option("--format <format>", "table or json (json = --json)", parseFormat)
    .action(action(runShowConfig));
}
