import type { Command } from "commander";
import { debugFromEnv } from "./options.js";
import {
  type Colors,
  colorsFor,
  type OutputOptions,
  processWriters,
  renderSuccessEnvelope,
  reportError,
  type Writers,
} from "./output.js";

export interface CommandContext {
  output: OutputOptions;
  colors: Colors;
  /** `--data-dir` as given (resolved later by runtime/paths.ts). */
  dataDirFlag: string | undefined;
  /** `--config` as given (read by the commands that use the config file). */
  configFlag: string | undefined;
  env: NodeJS.ProcessEnv;
  writers: Writers;
}

export interface CommandResult {
  /** The `data` of the `--json` envelope. */
  data: unknown;
  /** Human output for the terminal. */
  human: string;
  /** The command printed its result itself (a foreground launch prints when ready, then runs on). */
  printed?: boolean;
}

interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
  color?: boolean;
  dataDir?: string;
  config?: string;
}

export function contextFrom(
  command: Command,
  env: NodeJS.ProcessEnv = process.env,
  writers = processWriters,
): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const color =
    globals.color !== false &&
    !("NO_COLOR" in env) &&
    (env.FORCE_COLOR !== undefined || process.stdout.isTTY === true);
  const debug = globals.debug === true || debugFromEnv(env);
  const output: OutputOptions = { json: globals.json === true, debug, color };
  return {
    output,
    colors: colorsFor(output),
    dataDirFlag: globals.dataDir,
    configFlag: globals.config,
    env,
    writers,
  };
}

/**
 * Wraps a command's work: runs it, prints the envelope or the human text, maps errors to exit
 * codes. The one place that prints results (STYLE.md #11).
 */
export function action<A extends unknown[]>(
  work: (ctx: CommandContext, ...args: A) => Promise<CommandResult>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = contextFrom(command);
    try {
      const result = await work(ctx, ...(args.slice(0, -1) as A));
      if (!result.printed)
        ctx.writers.stdout(ctx.output.json ? renderSuccessEnvelope(result.data) : result.human);
    } catch (error) {
      process.exitCode = reportError(error, ctx.output, ctx.writers);
    }
  };
}
