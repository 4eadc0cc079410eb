#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ServepilotError } from "../core/errors.js";
import { registerBench } from "./commands/bench.js";
import { registerCache } from "./commands/cache.js";
import { registerDebug } from "./commands/debug.js";
import { registerDetect } from "./commands/detect.js";
import { registerFit } from "./commands/fit.js";
import { registerGenerate } from "./commands/generate.js";
import { registerGpus } from "./commands/gpus.js";
import { registerInspect } from "./commands/inspect.js";
import { registerInstanceCommands } from "./commands/instances.js";
import { registerLaunch } from "./commands/launch.js";
import { registerList } from "./commands/list.js";
import { registerModels } from "./commands/models.js";
import { registerPlan } from "./commands/plan.js";
import { registerShowConfig } from "./commands/show-config.js";
import { registerStudio } from "./commands/studio.js";
import { debugFromEnv } from "./options.js";
import { reportError } from "./output.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command("servepilot")
    .description(
      "Plan, launch and operate LLM inference servers (vLLM, SGLang, llama.cpp) on NVIDIA and AMD GPUs",
    )
    .version(pkg.version, "-V, --version", "print the version")
    .option("--json", "print one JSON envelope on stdout: {success, data} or {success: false, error}")
    .option("--debug", "print stack traces with errors")
    .option("--no-color", "disable colour (NO_COLOR is honoured too)")
    .option("--data-dir <dir>", "servepilot data directory (default: $SERVEPILOT_HOME or ~/.servepilot)")
    .option(
      "--config <file>",
      "defaults for launch (default: <data-dir>/config.yaml; SERVEPILOT_* env wins over it)",
    )
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  registerPlan(program);
  registerFit(program);
  registerGenerate(program);
  registerDetect(program);
  registerGpus(program);
  registerModels(program);
  registerInspect(program);
  registerList(program);
  registerShowConfig(program);
  registerLaunch(program);
  registerInstanceCommands(program);
  registerBench(program);
  registerCache(program);
  registerDebug(program);
  registerStudio(program);
  program.addHelpText(
    "after",
    "\nExit codes: 0 ok, 1 general, 2 configuration / bad input, 3 GPU detection, 4 launch, 5 cache, 6 network, 7 permission.",
  );
  for (const command of program.commands) command.exitOverride().configureOutput({ outputError: () => {} });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  const json = argv.includes("--json");
  const debug = argv.includes("--debug") || debugFromEnv(process.env);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.exitCode === 0 ||
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version"
      ) {
        return;
      }
      if (error.code === "commander.help") {
        // a command group without its subcommand: the help was printed; that is a usage error
        process.exitCode = 2;
        return;
      }
      const message = error.message.replace(/^error: /, "");
      const hint = "run servepilot --help (or servepilot <command> --help) for usage";
      process.exitCode = reportError(new ServepilotError("INVALID_ARGUMENT", message, { hint }), {
        json,
        debug,
        color: false,
      });
      return;
    }
    process.exitCode = reportError(error, { json, debug, color: false });
  }
}

await main();
