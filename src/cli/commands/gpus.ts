import type { Command } from "commander";
import { ServepilotError } from "../../core/errors.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { renderTable } from "../table.js";

interface GpusOptions {
  vendor?: string;
}

async function gpus(
  ctx: CommandContext,
  filter: string | undefined,
  options: GpusOptions,
): Promise<CommandResult> {
  const { loadGpuCatalog } = await import("../../runtime/catalog/gpu-catalog.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  if (options.vendor && options.vendor !== "nvidia" && options.vendor !== "amd") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--vendor must be "nvidia" or "amd", got ${JSON.stringify(options.vendor)}`,
    );
  }
  const catalog = await loadGpuCatalog({ dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }) });
  const needle = filter?.toLowerCase();
  const entries = catalog.filter(
    (gpu) =>
      (!options.vendor || gpu.vendor === options.vendor) &&
      (!needle ||
        gpu.id.includes(needle) ||
        gpu.name.toLowerCase().includes(needle) ||
        gpu.aliases.some((alias) => alias.toLowerCase().includes(needle))),
  );
  const c = ctx.colors;
  const rows = entries.map((gpu) => [
    gpu.id,
    gpu.name,
    `${gpu.memory.runtimeGiB.toFixed(2)} GiB`,
    `${gpu.memory.bandwidthGBs} GB/s`,
    String(gpu.tflops.bf16 ?? gpu.tflops.fp16),
    gpu.tflops.fp8 === null ? "-" : String(gpu.tflops.fp8),
    gpu.computeCapability ?? gpu.gfxTarget ?? "-",
    gpu.interconnect.type,
    gpu.origin.kind === "user" ? c.cyan(gpu.origin.file) : "built-in",
  ]);
  const human =
    entries.length === 0
      ? `no GPU in the catalog matches ${JSON.stringify(filter)}\n`
      : renderTable(
          [
            "id",
            "name",
            "memory",
            "bandwidth",
            "bf16 TFLOPS",
            "fp8 TFLOPS",
            "cc/gfx",
            "interconnect",
            "source",
          ],
          rows,
        );
  return { data: { gpus: entries, count: entries.length }, human };
}

export function registerGpus(program: Command): void {
  program
    .command("gpus")
    .description("list the GPU catalog (built-in plus <data-dir>/gpus/*.yaml)")
    .argument("[filter]", "substring of an id, name or alias")
    .option("--vendor <vendor>", "nvidia or amd")
    .action(action(gpus));
}
