import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";

async function detect(ctx: CommandContext): Promise<CommandResult> {
  const { detectAndMatch } = await import("../../runtime/detect-and-match.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { renderDetect } = await import("../render/detect.js");
  const result = await detectAndMatch({
    env: ctx.env,
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
  });
  return { data: result, human: renderDetect(result, ctx.colors) };
}

export function registerDetect(program: Command): void {
  program
    .command("detect")
    .description("list the GPUs on this machine with live memory use (nvidia-smi, amd-smi or rocm-smi)")
    .action(action(detect));
}
