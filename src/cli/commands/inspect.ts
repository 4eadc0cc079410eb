import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";

interface InspectOptions {
  revision?: string;
  offline?: boolean;
}

async function inspect(ctx: CommandContext, ref: string, options: InspectOptions): Promise<CommandResult> {
  const { loadModel } = await import("../../runtime/load-model.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { renderInspect } = await import("../render/inspect.js");
  const loaded = await loadModel(ref, {
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
    env: ctx.env,
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.offline ? { offline: true } : {}),
  });
  const { inspectData } = await import("../../runtime/model-views.js");
  return { data: inspectData(loaded), human: renderInspect(loaded, ctx.colors) };
}

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description(
      "show a model's architecture, parameters by component, KV-cache bytes per token and quantization",
    )
    .argument("<model>", "Hugging Face repo id, catalog alias, local directory or .gguf file")
    .option("--revision <rev>", "Hub revision (branch, tag or commit)")
    .option("--offline", "do not contact the Hugging Face Hub (also HF_HUB_OFFLINE=1)")
    .action(action(inspect));
}
