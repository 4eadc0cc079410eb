import type { Command } from "commander";
import { ServepilotError } from "../../core/errors.js";
import { ARTIFACT_KINDS, type ArtifactKind } from "../../core/render/artifact-kinds.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { positiveInt } from "../options.js";
import { addPlanOptions, type PlanFlags, requestFromFlags } from "./plan.js";

interface GenerateFlags extends PlanFlags {
  output: string;
  emit?: string;
  port?: number;
  force?: boolean;
}

function parseEmit(value: string): ArtifactKind[] {
  const kinds = value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const unknown = kinds.filter((kind) => !(ARTIFACT_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--emit takes a comma-separated list of ${ARTIFACT_KINDS.join(", ")}; got ${JSON.stringify(value)}`,
    );
  }
  return kinds as ArtifactKind[];
}

async function runGenerate(
  ctx: CommandContext,
  positional: string | undefined,
  flags: GenerateFlags,
): Promise<CommandResult> {
  const emit = flags.emit !== undefined ? parseEmit(flags.emit) : undefined;
  const { generate } = await import("../../runtime/generate.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const request = await requestFromFlags(positional, flags);
  const result = await generate(request, {
    outputDir: flags.output,
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
    env: ctx.env,
    ...(emit ? { emit } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.force ? { force: true } : {}),
  });
  const c = ctx.colors;
  const verdict = result.plan.fits
    ? c.green("fits")
    : c.red("does not fit (artifacts written as planned; see plan.json)");
  const lines = [
    `${result.plan.model.id}: ${verdict}; wrote ${result.files.length} files to ${result.outputDir}`,
  ];
  for (const file of result.files) lines.push(`  ${file.kind.padEnd(9)} ${file.path}`);
  return {
    data: { outputDir: result.outputDir, files: result.files, fits: result.plan.fits },
    human: `${lines.join("\n")}\n`,
  };
}

export function registerGenerate(program: Command): void {
  addPlanOptions(
    program
      .command("generate")
      .description(
        "plan, then write the deployment artifacts: engine command, docker run, compose, Kubernetes, Helm values, multi-node, profile, plan.json",
      )
      .argument("[model]", "Hugging Face repo id, catalog alias, or local directory")
      .requiredOption("-o, --output <dir>", "directory to write the artifacts into")
      .option(
        "--emit <kinds>",
        `comma-separated subset of ${ARTIFACT_KINDS.join(", ")} (default: the set the plan needs)`,
      )
      .option("--port <port>", "port the engine listens on (default 8000)", positiveInt("--port"))
      .option("--force", "overwrite files that already exist in the output directory"),
  ).action(action(runGenerate));
}
