import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { positiveInt, positiveNumber } from "../options.js";

async function dataDirOf(ctx: CommandContext): Promise<string> {
  const { resolveDataDir } = await import("../../runtime/paths.js");
  return resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env });
}

async function runStatus(ctx: CommandContext, name: string | undefined): Promise<CommandResult> {
  const dataDir = await dataDirOf(ctx);
  const status = await import("../../runtime/supervisor/status.js");
  const render = await import("../render/instances.js");
  if (name !== undefined) {
    const report = await status.instanceStatus(dataDir, name, { env: ctx.env });
    return { data: statusData(report), human: render.renderInstanceDetail(report, ctx.colors) };
  }
  const reports = await status.instanceStatuses(dataDir, { env: ctx.env });
  return {
    data: { instances: reports.map(statusData), count: reports.length },
    human: render.renderInstanceTable(reports, ctx.colors),
  };
}

function statusData(
  report: Awaited<ReturnType<typeof import("../../runtime/supervisor/status.js").instanceStatus>>,
) {
  return { ...report.record, alive: report.alive, healthy: report.healthy, reason: report.reason };
}

interface StopFlags {
  timeout?: number;
  all?: boolean;
}

async function runStop(
  ctx: CommandContext,
  name: string | undefined,
  flags: StopFlags,
): Promise<CommandResult> {
  const dataDir = await dataDirOf(ctx);
  const { stopInstance } = await import("../../runtime/supervisor/stop.js");
  const { renderStopResult } = await import("../render/instances.js");
  const options = { env: ctx.env, ...(flags.timeout !== undefined ? { graceSeconds: flags.timeout } : {}) };
  if (flags.all) {
    if (name !== undefined) {
      const { ServepilotError } = await import("../../core/errors.js");
      throw new ServepilotError("INVALID_ARGUMENT", "stop: give an instance name or --all, not both");
    }
    const { instanceStatuses } = await import("../../runtime/supervisor/status.js");
    const running = (await instanceStatuses(dataDir, { env: ctx.env, probe: false })).filter((r) => r.alive);
    const results = [];
    for (const report of running) results.push(await stopInstance(dataDir, report.record.name, options));
    return {
      data: { stopped: results.map(stopData), count: results.length },
      human:
        results.length === 0
          ? "nothing is running\n"
          : results.map((r) => renderStopResult(r, ctx.colors)).join(""),
    };
  }
  if (name === undefined) {
    const { ServepilotError } = await import("../../core/errors.js");
    throw new ServepilotError("INVALID_ARGUMENT", "stop: missing the instance name", {
      hint: "servepilot status lists instances; stop --all stops every running one",
    });
  }
  const result = await stopInstance(dataDir, name, options);
  return { data: stopData(result), human: renderStopResult(result, ctx.colors) };
}

function stopData(
  result: Awaited<ReturnType<typeof import("../../runtime/supervisor/stop.js").stopInstance>>,
) {
  return {
    name: result.name,
    wasRunning: result.wasRunning,
    signal: result.signal,
    remaining: result.remaining,
    status: result.record.status,
  };
}

interface LogsFlags {
  follow?: boolean;
  lines?: number;
}

async function runLogs(ctx: CommandContext, name: string, flags: LogsFlags): Promise<CommandResult> {
  const dataDir = await dataDirOf(ctx);
  const { instanceStatus } = await import("../../runtime/supervisor/status.js");
  const { tailLines, createLogReader, logSize } = await import("../../runtime/supervisor/log-file.js");
  const report = await instanceStatus(dataDir, name, { env: ctx.env, probe: false });
  const file = report.record.logFile;
  const lines = await tailLines(file, flags.lines ?? 100);
  if (!flags.follow || ctx.output.json) {
    return { data: { name, logFile: file, lines }, human: lines.length === 0 ? "" : `${lines.join("\n")}\n` };
  }
  if (lines.length > 0) ctx.writers.stdout(`${lines.join("\n")}\n`);
  const reader = createLogReader(file, await logSize(file));
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once("SIGINT", onSignal);
  try {
    let quietSince = Date.now();
    while (!interrupted) {
      const text = await reader.read();
      if (text !== "") {
        ctx.writers.stdout(text);
        quietSince = Date.now();
      } else if (Date.now() - quietSince > 1_000) {
        // nothing new for a second: stop following once the engine is gone
        const now = await instanceStatus(dataDir, name, { env: ctx.env, probe: false });
        if (!now.alive) break;
        quietSince = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
  return { data: { name, logFile: file }, human: "", printed: true };
}

export function registerInstanceCommands(program: Command): void {
  program
    .command("status")
    .description(
      "instances started by servepilot: state, GPUs, endpoint; with a name, details and plan vs actual",
    )
    .argument("[name]", "one instance")
    .action(action(runStatus));
  program
    .command("stop")
    .description("stop an instance: SIGTERM to its process group, then SIGKILL after the grace period")
    .argument("[name]", "instance name (servepilot status lists them)")
    .option("--all", "stop every running instance")
    .option("--timeout <seconds>", "grace period before SIGKILL (default 30)", positiveNumber("--timeout"))
    .action(action(runStop));
  program
    .command("logs")
    .description("an instance's engine log (the last lines; -f follows it)")
    .argument("<name>", "instance name")
    .option("-f, --follow", "keep printing new lines until Ctrl-C or the engine ends")
    .option("-n, --lines <n>", "how many of the last lines to print (default 100)", positiveInt("--lines"))
    .action(action(runLogs));
}
