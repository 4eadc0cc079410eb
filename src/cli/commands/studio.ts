import type { Command } from "commander";
import { ServepilotError } from "../../core/errors.js";
import { action, type CommandContext, type CommandResult } from "../context.js";

interface StudioFlags {
  host?: string;
  port?: number;
  apiKey?: string;
  allowCustomCommands?: boolean;
  corsOrigin?: string[];
  stopEngines?: boolean;
  restore?: boolean;
  rateLimit?: number;
  logLevel?: string;
  normalizeReasoning?: boolean;
  gatewayTimeout?: number;
}

function nonNegativeInt(flag: string, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > max) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `${flag} must be an integer from 0 to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

async function runStudio(ctx: CommandContext, flags: StudioFlags): Promise<CommandResult> {
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { loadConfig } = await import("../../runtime/config.js");
  const dataDir = resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env });
  const config = await loadConfig({ dataDir, configFlag: ctx.configFlag, env: ctx.env });
  if (flags.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(flags.logLevel)}`,
    );
  }
  const { startStudio } = await import("../../studio/index.js");
  const studio = await startStudio({
    dataDir,
    env: ctx.env,
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
    allowCustomCommands: flags.allowCustomCommands === true,
    corsOrigins: flags.corsOrigin ?? [],
    stopEngines: flags.stopEngines === true,
    restore: flags.restore === true,
    ...(flags.rateLimit !== undefined ? { rateLimitPerMinute: flags.rateLimit } : {}),
    normalizeReasoning: flags.normalizeReasoning === true,
    ...(flags.gatewayTimeout !== undefined ? { gatewayTimeoutMs: flags.gatewayTimeout * 1000 } : {}),
    logLevel: (flags.logLevel ?? (config.debug ? "debug" : config.logLevel)) as (typeof LOG_LEVELS)[number],
    enginePortStart: config.port,
    recipesDir: config.recipesDir,
    enginePrograms: config.engines,
  });
  process.stderr.write(`servepilot studio listening on ${studio.url} (data: ${dataDir}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  process.stderr.write(
    flags.stopEngines
      ? "stopping the studio and its engines ...\n"
      : "stopping the studio (engines keep running) ...\n",
  );
  await studio.close();
  return { data: { url: studio.url, stopped: true }, human: "", printed: true };
}

export function registerStudio(program: Command): void {
  program
    .command("studio")
    .description("start the studio: HTTP API, event stream and metrics to launch, switch and watch engines")
    .option("--host <address>", "address to listen on (anything but loopback needs --api-key)", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", nonNegativeInt("--port", 65_535), 8080)
    .option("--api-key <key>", "require this key (Bearer or X-API-Key) on the API; or SERVEPILOT_API_KEY")
    .option("--allow-custom-commands", "let API recipes name their own executables and loader env")
    .option(
      "--cors-origin <origin>",
      "allow this browser origin (repeatable; CORS is off without it)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--stop-engines",
      "stop the engines when the studio stops (default: leave them; adopted at next start)",
    )
    .option("--restore", "relaunch at start what was running when the studio last stopped")
    .option(
      "--rate-limit <n>",
      "/api requests per minute per client address (0: none; /v1 is limited per API key)",
      nonNegativeInt("--rate-limit"),
    )
    .option(
      "--normalize-reasoning",
      "gateway: move <think>...</think> from content to reasoning_content (per request: X-Servepilot-Reasoning)",
    )
    .option(
      "--gateway-timeout <seconds>",
      "gateway: seconds to wait for an engine to start answering (default 600; 0: no limit)",
      nonNegativeInt("--gateway-timeout", 86_400),
    )
    .option("--log-level <level>", `studio log level (${LOG_LEVELS.join(", ")})`)
    .action(action(runStudio));
}
