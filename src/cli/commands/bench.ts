import type { Command } from "commander";
import type { BenchSettings } from "../../core/bench/settings.js";
import type { BenchComparison, Distribution } from "../../core/bench/summary.js";
import type { BenchmarkResult } from "../../runtime/bench/run.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { oneOf, positiveInt, positiveNumber } from "../options.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

interface BenchFlags {
  model?: string;
  concurrency?: number;
  requests?: number;
  promptTokens?: number;
  outputTokens?: number;
  apiKey?: string;
  timeout?: number;
  api?: "chat" | "completions";
  warmup?: boolean;
}

/** --api-key, else SERVEPILOT_API_KEY, else OPENAI_API_KEY. */
export function apiKeyFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  for (const value of [flag, env.SERVEPILOT_API_KEY, env.OPENAI_API_KEY]) {
    if (value !== undefined && value.trim() !== "") return value.trim();
  }
  return undefined;
}

async function runBench(ctx: CommandContext, target: string, flags: BenchFlags): Promise<CommandResult> {
  const { resolveBenchSettings } = await import("../../core/bench/settings.js");
  const settings = resolveBenchSettings({
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.requests !== undefined ? { requests: flags.requests } : {}),
    ...(flags.promptTokens !== undefined ? { promptTokens: flags.promptTokens } : {}),
    ...(flags.outputTokens !== undefined ? { outputTokens: flags.outputTokens } : {}),
  });
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { resolveBenchTarget } = await import("../../runtime/bench/target.js");
  const { runBenchmark } = await import("../../runtime/bench/run.js");
  const dataDir = resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env });
  const apiKey = apiKeyFrom(flags.apiKey, ctx.env);
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const resolved = await resolveBenchTarget(target, { dataDir, model: flags.model, headers });

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  const progress = !ctx.output.json && process.stderr.isTTY === true;
  try {
    const result = await runBenchmark({
      baseUrl: resolved.baseUrl,
      model: resolved.model,
      instance: resolved.instance,
      settings,
      api: flags.api ?? "chat",
      headers,
      signal: controller.signal,
      warmup: flags.warmup !== false,
      ...(flags.timeout !== undefined ? { requestTimeoutMs: flags.timeout * 1000 } : {}),
      dataDir,
      env: ctx.env,
      ...(progress
        ? {
            onProgress: (p) =>
              ctx.writers.stderr(
                `\r${p.completed}/${p.total} requests${p.failed > 0 ? ` (${p.failed} failed)` : ""}${p.completed === p.total ? "\n" : ""}`,
              ),
          }
        : {}),
    });
    return { data: result, human: renderBench(result, ctx.colors) };
  } finally {
    process.off("SIGINT", onSignal);
  }
}

function ms(value: number | null): string {
  if (value === null) return "-";
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function rate(value: number | null): string {
  return value === null ? "-" : value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function describeSettings(s: BenchSettings): string {
  return `${s.requests} requests at concurrency ${s.concurrency}, ~${s.promptTokens} prompt tokens, ${s.outputTokens} output tokens`;
}

const COMPARED_LABELS: Record<BenchComparison["metric"], string> = {
  ttftMs: "TTFT mean (ms)",
  tpotMs: "TPOT mean (ms)",
  outputTokensPerSecond: "output tokens/s",
};

export function renderBench(result: BenchmarkResult, c: Colors): string {
  const { summary } = result;
  const lines: string[] = [];
  const where = result.target.instance
    ? `${result.target.instance} (${result.target.url})`
    : result.target.url;
  lines.push(`${c.bold("benchmark")} ${result.target.model} at ${where}`);
  lines.push(`${describeSettings(result.settings)}${result.cancelled ? c.yellow(" — cancelled") : ""}`);
  const meanPrompt = summary.meanPromptTokens === null ? "-" : summary.meanPromptTokens.toFixed(0);
  const meanOutput = summary.meanOutputTokens === null ? "-" : summary.meanOutputTokens.toFixed(1);
  lines.push(
    `${summary.requests.succeeded}/${summary.requests.total} succeeded in ${summary.wallSeconds.toFixed(2)} s; per request: ${meanPrompt} prompt tokens, ${meanOutput} output tokens (engine counts)`,
  );
  lines.push("");
  const row = (label: string, d: Distribution) => [label, ms(d.mean), ms(d.p50), ms(d.p95), ms(d.p99)];
  lines.push(
    renderTable(
      ["metric", "mean", "p50", "p95", "p99"],
      [row("TTFT (ms)", summary.ttftMs), row("TPOT (ms)", summary.tpotMs), row("e2e (ms)", summary.e2eMs)],
    ).trimEnd(),
  );
  lines.push("");
  lines.push(
    `output tokens/s ${c.bold(rate(summary.outputTokensPerSecond))}   requests/s ${rate(summary.requestsPerSecond)}`,
  );
  if (result.comparison.length > 0) {
    lines.push("");
    lines.push(
      renderTable(
        ["planned vs measured", "planned", "measured", "difference"],
        result.comparison.map((cmp) => [
          COMPARED_LABELS[cmp.metric],
          cmp.metric === "outputTokensPerSecond" ? rate(cmp.planned) : ms(cmp.planned),
          cmp.metric === "outputTokensPerSecond" ? rate(cmp.measured) : ms(cmp.measured),
          `${cmp.differencePercent >= 0 ? "+" : ""}${cmp.differencePercent.toFixed(1)}%`,
        ]),
      ).trimEnd(),
    );
  } else if (result.plannedUnavailable !== null) {
    lines.push(c.dim(`no planned estimate: ${result.plannedUnavailable}`));
  }
  if (summary.errors.length > 0) {
    lines.push("");
    lines.push(c.red(`${summary.requests.failed} failed:`));
    for (const e of summary.errors.slice(0, 5)) lines.push(`  ${e.count} x ${e.message}`);
  }
  return `${lines.join("\n")}\n`;
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description(
      "benchmark a running model or an OpenAI-compatible endpoint: TTFT, TPOT, e2e (p50/p95/p99), tokens/s, against the plan",
    )
    .argument("<model|endpoint>", "a served model (name, id or instance name) or an http(s):// endpoint")
    .option("--model <name>", "the model to request at an endpoint (default: the first of GET /v1/models)")
    .option("-c, --concurrency <n>", "requests in flight at once (default 1)", positiveInt("--concurrency"))
    .option("-n, --requests <n>", "measured requests (default 8 x concurrency)", positiveInt("--requests"))
    .option(
      "--prompt-tokens <n>",
      "synthetic prompt length in tokens (default 512)",
      positiveInt("--prompt-tokens"),
    )
    .option(
      "--output-tokens <n>",
      "tokens to generate per request (default 128)",
      positiveInt("--output-tokens"),
    )
    .option("--api-key <key>", "API key sent as Bearer (default: $SERVEPILOT_API_KEY or $OPENAI_API_KEY)")
    .option("--timeout <seconds>", "limit for each request (default 300)", positiveNumber("--timeout"))
    .option(
      "--api <api>",
      "chat (/v1/chat/completions, default) or completions (/v1/completions)",
      oneOf("--api", ["chat", "completions"] as const),
    )
    .option("--no-warmup", "skip the unmeasured warm-up request")
    .action(action(runBench));
}
