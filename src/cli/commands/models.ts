import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { formatCount, renderTable } from "../table.js";

async function models(ctx: CommandContext, filter: string | undefined): Promise<CommandResult> {
  const { catalogModelViews, catalogModelsData } = await import("../../runtime/model-views.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const described = await catalogModelViews({
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
    filter,
  });
  const c = ctx.colors;
  const rows = described.map(({ entry, description: d }) => [
    entry.id,
    entry.family,
    d.architecture.wrapperType ?? d.architecture.modelType,
    formatCount(d.params.total) + (d.architecture.moe ? ` (${formatCount(d.params.active)} active)` : ""),
    d.architecture.quantization?.scheme ?? d.architecture.dtype ?? "-",
    String(d.architecture.maxContext ?? "-"),
    entry.origin.kind === "user" ? c.cyan(entry.origin.file) : "built-in",
  ]);
  const data = catalogModelsData(described);
  const human =
    described.length === 0
      ? `no catalog model matches ${JSON.stringify(filter)}\n`
      : renderTable(["id", "family", "type", "params", "precision", "context", "source"], rows);
  return { data, human };
}

export function registerModels(program: Command): void {
  program
    .command("models")
    .description("list the model catalog (built-in plus <data-dir>/models/*.yaml)")
    .argument("[filter]", "substring of an id, family or alias")
    .action(action(models));
}
