import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { formatCount, renderTable } from "../table.js";

async function models(ctx: CommandContext, filter: string | undefined): Promise<CommandResult> {
  const { loadModelCatalog } = await import("../../runtime/catalog/model-catalog.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { describeModel } = await import("../../core/model/describe-model.js");
  const catalog = await loadModelCatalog({
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
  });
  const needle = filter?.toLowerCase();
  const entries = catalog.entries.filter(
    (entry) =>
      !needle ||
      entry.id.toLowerCase().includes(needle) ||
      entry.family.toLowerCase().includes(needle) ||
      entry.aliases.some((alias) => alias.toLowerCase().includes(needle)),
  );
  const described = entries.map((entry) => {
    const d = describeModel({
      config: entry.config,
      label: `${entry.origin.file}: ${entry.id}`,
      publishedParams: entry.publishedParams,
    });
    return { entry, d };
  });
  const c = ctx.colors;
  const rows = described.map(({ entry, d }) => [
    entry.id,
    entry.family,
    d.architecture.wrapperType ?? d.architecture.modelType,
    formatCount(d.params.total) + (d.architecture.moe ? ` (${formatCount(d.params.active)} active)` : ""),
    d.architecture.quantization?.scheme ?? d.architecture.dtype ?? "-",
    String(d.architecture.maxContext ?? "-"),
    entry.origin.kind === "user" ? c.cyan(entry.origin.file) : "built-in",
  ]);
  const data = {
    count: described.length,
    models: described.map(({ entry, d }) => ({
      id: entry.id,
      family: entry.family,
      aliases: entry.aliases,
      modelType: d.architecture.modelType,
      params: { total: d.params.total, active: d.params.active, published: entry.publishedParams },
      quantization: d.architecture.quantization?.scheme ?? null,
      maxContext: d.architecture.maxContext,
      gated: entry.gated,
      source: entry.source,
      origin: entry.origin,
    })),
  };
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
