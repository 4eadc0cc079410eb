import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { positiveInt } from "../options.js";

interface FitFlags {
  maxModelLen?: number;
  concurrency?: number;
  maxGpus?: number;
  engineVersion?: string;
  vendor?: string;
  offline?: boolean;
}

async function runFit(ctx: CommandContext, model: string, flags: FitFlags): Promise<CommandResult> {
  const { fit: fitModel } = await import("../../runtime/fit.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { renderFit } = await import("../render/fit.js");
  const result = await fitModel(
    {
      model,
      ...(flags.maxModelLen !== undefined ? { maxModelLen: flags.maxModelLen } : {}),
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      ...(flags.maxGpus !== undefined ? { maxGpus: flags.maxGpus } : {}),
      ...(flags.engineVersion !== undefined ? { engineVersion: flags.engineVersion } : {}),
      ...(flags.vendor !== undefined ? { vendor: flags.vendor } : {}),
      ...(flags.offline ? { offline: true } : {}),
    },
    { dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }), env: ctx.env },
  );
  return { data: result, human: renderFit(result, ctx.colors) };
}

export function registerFit(program: Command): void {
  program
    .command("fit")
    .description("which GPU types and counts serve a model, ranked by fewest GPUs then most KV headroom")
    .argument("<model>", "Hugging Face repo id, catalog alias, or local directory")
    .option(
      "--max-model-len <tokens>",
      "context length (default: the model's maximum)",
      positiveInt("--max-model-len"),
    )
    .option(
      "--concurrency <n>",
      "requests of max-model-len tokens that must fit at once (default 1)",
      positiveInt("--concurrency"),
    )
    .option("--max-gpus <n>", "largest GPU count to consider (default 8)", positiveInt("--max-gpus"))
    .option("--engine-version <version>", "vLLM release to model (default: the newest known)")
    .option("--vendor <vendor>", "only nvidia or amd GPUs")
    .option("--offline", "do not contact the Hugging Face Hub")
    .action(action(runFit));
}
