import type { Command } from "commander";
import type { LaunchProgress, LaunchRequest, LaunchResult } from "../../runtime/supervisor/launch.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { fraction, oneOf, positiveInt, positiveNumber } from "../options.js";
import { renderSuccessEnvelope } from "../output.js";
import { resolveRecipeFilters } from "./show-config.js";

const LAUNCH_ENGINES = ["vllm", "sglang", "llamacpp", "embedded"] as const;

interface LaunchFlags {
  precision?: string;
  engine?: string;
  backend?: string;
  metric?: string;
  recipe?: string;
  recipesDir?: string;
  name?: string;
  host?: string;
  port?: number;
  timeout?: number;
  docker?: boolean;
  detach?: boolean;
  dryRun?: boolean;
  engineBin?: string;
  maxModelLen?: number;
  gpuMemoryUtilization?: number;
  enforceEager?: boolean;
  trustRemoteCode?: boolean;
  threads?: number;
  offline?: boolean;
  cache?: boolean;
}

type Config = Awaited<ReturnType<typeof import("../../runtime/config.js").loadConfig>>;

/** Startup progress on stderr: a live line on a terminal, a line per phase otherwise, or JSON lines. */
function progressPrinter(ctx: CommandContext, config: Config) {
  const stderr = process.stderr;
  const live = stderr.isTTY === true && config.logFormat === "text";
  let shown = "";
  return {
    onProgress(progress: LaunchProgress) {
      if (progress.line !== undefined) {
        if (config.logLevel !== "debug") return;
        if (config.logFormat === "json") {
          stderr.write(
            `${JSON.stringify({ time: new Date().toISOString(), level: "debug", instance: progress.name, line: progress.line })}\n`,
          );
        } else {
          if (live && shown) stderr.write("\r\u001b[2K");
          stderr.write(`${ctx.colors.dim(progress.line)}\n`);
          shown = "";
        }
        return;
      }
      if (config.logLevel === "warn" || config.logLevel === "error") return;
      const text = `${progress.phase}${progress.percent !== null ? ` ${Math.round(progress.percent)}%` : ""}`;
      if (config.logFormat === "json") {
        stderr.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: "info", instance: progress.name, phase: progress.phase, percent: progress.percent })}\n`,
        );
      } else if (live) {
        shown = `${ctx.colors.cyan(progress.name)} ${text}`;
        stderr.write(`\r\u001b[2K${shown}`);
      } else {
        stderr.write(`[${progress.name}] ${text}\n`);
      }
    },
    done() {
      if (live && shown) stderr.write("\r\u001b[2K");
      shown = "";
    },
  };
}

async function runLaunch(
  ctx: CommandContext,
  model: string,
  gpuCountArg: string | undefined,
  flags: LaunchFlags,
): Promise<CommandResult> {
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { loadConfig } = await import("../../runtime/config.js");
  const dataDir = resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env });
  const config = await loadConfig({ dataDir, configFlag: ctx.configFlag, env: ctx.env });
  if (config.debug) ctx.output.debug = true;
  const gpuCount = gpuCountArg === undefined ? undefined : positiveInt("gpu_count")(gpuCountArg);
  const engineFlag = flags.engine ?? flags.backend;
  const engine = engineFlag === undefined ? undefined : oneOf("--engine", LAUNCH_ENGINES)(engineFlag);
  const filters = await resolveRecipeFilters({
    ...(flags.precision !== undefined ? { precision: flags.precision } : {}),
    ...(flags.metric !== undefined ? { metric: flags.metric } : {}),
  });
  const overrides = {
    ...(flags.maxModelLen !== undefined ? { maxModelLen: flags.maxModelLen } : {}),
    ...(flags.gpuMemoryUtilization !== undefined ? { gpuMemoryUtilization: flags.gpuMemoryUtilization } : {}),
    ...(flags.enforceEager ? { enforceEager: true } : {}),
  };
  const request: LaunchRequest = {
    model,
    ...filters,
    ...(gpuCount !== undefined ? { gpuCount } : {}),
    ...(engine !== undefined ? { engine } : {}),
    ...(flags.recipe !== undefined ? { recipeId: flags.recipe } : {}),
    ...((flags.recipesDir ?? config.recipesDir)
      ? { recipesDir: flags.recipesDir ?? config.recipesDir ?? "" }
      : {}),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...((flags.host ?? config.host) ? { host: flags.host ?? config.host ?? "" } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(config.port !== null ? { portStart: config.port } : {}),
    ...((flags.timeout ?? config.timeout) ? { timeoutSeconds: flags.timeout ?? config.timeout ?? 0 } : {}),
    ...(flags.docker ? { docker: true } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.engineBin !== undefined ? { engineBin: flags.engineBin } : {}),
    enginePrograms: config.engines,
    ...(flags.offline ? { offline: true } : {}),
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
    ...(flags.trustRemoteCode ? { trustRemoteCode: true } : {}),
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
  };
  const { launch } = await import("../../runtime/supervisor/launch.js");
  const { renderLaunchResult } = await import("../render/instances.js");
  if (flags.cache === false && !flags.dryRun) await forgetCachedModel(model, ctx);

  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const printer = progressPrinter(ctx, config);
  let result: LaunchResult;
  try {
    result = await launch(request, {
      dataDir,
      env: ctx.env,
      signal: interrupt.signal,
      ...(ctx.output.json && config.logFormat !== "json" ? {} : { onProgress: printer.onProgress }),
    });
  } finally {
    printer.done();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const human = renderLaunchResult(result, ctx.colors);
  if (flags.detach || flags.dryRun) return { data: result, human };

  // foreground: report readiness now, then follow the engine until it ends or we are interrupted
  ctx.writers.stdout(ctx.output.json ? renderSuccessEnvelope(result) : human);
  if (!ctx.output.json) ctx.writers.stdout(ctx.colors.dim("(following the engine's log; Ctrl-C stops it)\n"));
  await followUntilEnd(ctx, dataDir, result);
  return { data: result, human: "", printed: true };
}

/** --no-cache: removes the model from the HF cache so that the engine downloads it again. */
async function forgetCachedModel(model: string, ctx: CommandContext): Promise<void> {
  if (/[\\/]/.test(model) && !/^[\w.-]+\/[\w.-]+$/.test(model)) return;
  const { scanCache } = await import("../../runtime/cache/scan-cache.js");
  const { planRemove, applyCacheDeletion } = await import("../../runtime/cache/prune-cache.js");
  const { resolveSourceSettings } = await import("../../runtime/models/source-settings.js");
  const scan = await scanCache((await resolveSourceSettings({ env: ctx.env })).cacheDir);
  if (!scan.repos.some((repo) => repo.repo.toLowerCase() === model.toLowerCase())) return;
  await applyCacheDeletion(planRemove(scan, model));
  process.stderr.write(
    `--no-cache: removed ${model} from the Hugging Face cache; the engine downloads it again\n`,
  );
}

/** Foreground launch: prints the engine's log as it comes, stops it on Ctrl-C / SIGTERM. */
async function followUntilEnd(ctx: CommandContext, dataDir: string, result: LaunchResult): Promise<void> {
  const { createLogReader, logSize } = await import("../../runtime/supervisor/log-file.js");
  const { stopInstance } = await import("../../runtime/supervisor/stop.js");
  const { instanceStatus } = await import("../../runtime/supervisor/status.js");
  const reader = createLogReader(result.logFile, await logSize(result.logFile));
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    for (;;) {
      const text = await reader.read();
      if (text !== "" && !ctx.output.json) ctx.writers.stdout(text);
      if (stopRequested) {
        process.stderr.write(`stopping ${result.name} ...\n`);
        await stopInstance(dataDir, result.name, { env: ctx.env });
        return;
      }
      const report = await instanceStatus(dataDir, result.name, { env: ctx.env, probe: false });
      if (!report.alive) {
        const failure = report.record.failure;
        process.stderr.write(
          `${result.name} ended${failure ? `: ${failure.message}` : ""}${failure?.fixes[0] ? `\n  fix: ${failure.fixes[0]}` : ""}\n`,
        );
        if (report.record.status === "failed") process.exitCode = 4;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function registerLaunch(program: Command): void {
  program
    .command("launch")
    .description(
      "start an engine for a model on free GPUs (the best recipe, or the planner's configuration) and wait until it serves",
    )
    .argument("<model>", "Hugging Face repo id, catalog alias, or a .gguf file (embedded engine)")
    .argument("[gpu_count]", "GPUs to use (default: what the chosen configuration needs)")
    .option("--precision <p>", "bf16, fp16, fp8, int8, int4 or mxfp4")
    .option("--engine <engine>", `${LAUNCH_ENGINES.join(", ")} (default: chosen with the recipe)`)
    .option("--backend <engine>", "same as --engine (AIM Engine's name)")
    .option("--metric <metric>", "latency or throughput (ranks matching recipes first)")
    .option("--recipe <id>", "launch this recipe (refused, with the reason, if it does not qualify here)")
    .option("--recipes-dir <dir>", "your recipes (default: <data-dir>/recipes/)")
    .option("--name <name>", "instance name (default: from the model, e.g. qwen3-8b)")
    .option("--host <address>", "address the engine listens on (default 127.0.0.1)")
    .option(
      "--port <port>",
      "port (default: the first free from 8000 or SERVEPILOT_PORT)",
      positiveInt("--port"),
    )
    .option(
      "--timeout <seconds>",
      "seconds to wait until ready (default: scaled to the model size)",
      positiveNumber("--timeout"),
    )
    .option("--docker", "run the engine's release image with docker instead of a local program")
    .option("--detach", "return once the engine is ready and leave it running")
    .option("--dry-run", "show what would run (command, GPUs, port) without starting anything")
    .option("--engine-bin <path>", "the engine program (vllm, the Python with sglang, llama-server)")
    .option(
      "--max-model-len <tokens>",
      "context length to serve (overrides the configuration)",
      positiveInt("--max-model-len"),
    )
    .option(
      "--gpu-memory-utilization <f>",
      "fraction of GPU memory the engine may use",
      fraction("--gpu-memory-utilization"),
    )
    .option("--enforce-eager", "no CUDA graphs (less memory, slower decoding)")
    .option("--trust-remote-code", "let the engine run code from the model's repository")
    .option(
      "--threads <n>",
      "embedded engine: CPU threads (default: the core count)",
      positiveInt("--threads"),
    )
    .option("--offline", "do not contact the Hugging Face Hub while choosing the configuration")
    .option("--no-cache", "remove the model from the Hugging Face cache first, so it is downloaded again")
    .action(action(runLaunch));
}
