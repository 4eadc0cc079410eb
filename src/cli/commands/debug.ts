import type { Command } from "commander";
import { ServepilotError } from "../../core/errors.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { positiveInt } from "../options.js";

interface GpuInfoFlags {
  detailed?: boolean;
}

interface RecipeInfoFlags {
  gpuCount?: number;
  gpu?: string;
  recipesDir?: string;
  offline?: boolean;
}

async function runGpuInfo(ctx: CommandContext, flags: GpuInfoFlags): Promise<CommandResult> {
  const { detectAndMatch } = await import("../../runtime/detect-and-match.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { gpuInfoData, renderGpuInfo } = await import("../render/gpu-info.js");
  const report = await detectAndMatch({
    env: ctx.env,
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
  });
  if (report.gpus.length === 0) {
    throw new ServepilotError("GPU_DETECTION_FAILED", "no GPU is visible on this machine", {
      hint: "check CUDA_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES",
      details: { tools: report.tools, warnings: report.warnings },
    });
  }
  const detailed = flags.detailed === true;
  return { data: gpuInfoData(report, detailed), human: renderGpuInfo(report, detailed, ctx.colors) };
}

async function runRecipeInfo(
  ctx: CommandContext,
  model: string,
  flags: RecipeInfoFlags,
): Promise<CommandResult> {
  const { recipeInfo } = await import("../../runtime/recipes/recipe-info.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { renderRecipeInfo } = await import("../render/show-config.js");
  const result = await recipeInfo(
    {
      model,
      ...(flags.gpuCount !== undefined ? { gpuCount: flags.gpuCount } : {}),
      ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
      ...(flags.recipesDir !== undefined ? { recipesDir: flags.recipesDir } : {}),
      ...(flags.offline ? { offline: true } : {}),
    },
    { dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }), env: ctx.env },
  );
  return { data: result, human: renderRecipeInfo(result, ctx.colors) };
}

export function registerDebug(program: Command): void {
  const debug = program
    .command("debug")
    .description("inspect GPU detection and recipe selection")
    .usage("<gpu-info|recipe-info> [options]")
    .argument("[command]", "gpu-info or recipe-info")
    .action((name: string | undefined) => {
      // reached only when no subcommand matched
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        name === undefined
          ? "debug needs a command: gpu-info or recipe-info"
          : `debug <command> must be one of gpu-info, recipe-info; got ${JSON.stringify(name)}`,
      );
    });
  debug
    .command("gpu-info")
    .description("the GPUs detected here, matched to the catalog (exit 3 when none)")
    .option("--detailed", "add processes, MIG devices, the topology matrix and how each tool went")
    .action(action(runGpuInfo));
  debug
    .command("recipe-info")
    .description("every recipe for a model and why it would or would not be chosen on these GPUs")
    .argument("<model>", "Hugging Face repo id or catalog alias")
    .option("--gpu-count <n>", "GPUs to use (default: the free GPUs detected)", positiveInt("--gpu-count"))
    .option("--gpu <name>", "GPU type from the catalog (default: detect the GPUs here)")
    .option(
      "--recipes-dir <dir>",
      "your recipes (default: <data-dir>/recipes/), merged over the built-ins by id",
    )
    .option("--offline", "do not contact the Hugging Face Hub")
    .action(action(runRecipeInfo));
  for (const command of debug.commands) command.exitOverride().configureOutput({ outputError: () => {} });
  debug.exitOverride().configureOutput({ outputError: () => {} });
}
