import type { Command } from "commander";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { oneOf } from "../options.js";
import { applyFormat, parseFormat } from "./show-config.js";

const LIST_TYPES = ["models", "recipes", "configs", "running"] as const;

interface ListFlags {
  filter?: string;
  recipesDir?: string;
  format?: "table" | "json";
}

async function runList(ctx: CommandContext, type: string, flags: ListFlags): Promise<CommandResult> {
  applyFormat(ctx, flags.format);
  const kind = oneOf("list <type>", LIST_TYPES)(type);
  if (kind === "running") {
    const { resolveDataDir } = await import("../../runtime/paths.js");
    const { instanceStatuses } = await import("../../runtime/supervisor/status.js");
    const { renderInstanceTable } = await import("../render/instances.js");
    const dataDir = resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env });
    const filter = flags.filter?.toLowerCase();
    const running = (await instanceStatuses(dataDir, { env: ctx.env })).filter(
      (r) =>
        r.alive &&
        (filter === undefined ||
          [r.record.name, r.record.model, r.record.engine, r.record.recipeId].some((v) =>
            v.toLowerCase().includes(filter),
          )),
    );
    return {
      data: { instances: running.map((r) => ({ ...r.record, healthy: r.healthy })), count: running.length },
      human: running.length === 0 ? "nothing is running\n" : renderInstanceTable(running, ctx.colors),
    };
  }
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const recipes = await import("../../runtime/recipes/list-recipes.js");
  const render = await import("../render/list.js");
  const options = {
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
    recipesDir: flags.recipesDir ?? null,
    filter: flags.filter,
  };
  switch (kind) {
    case "models": {
      const models = await recipes.listRecipeModels(options);
      return { data: { models, count: models.length }, human: render.renderRecipeModels(models, ctx.colors) };
    }
    case "recipes": {
      const list = await recipes.listRecipes(options);
      return {
        data: { recipes: list, count: list.length },
        human: render.renderRecipeList(list, ctx.colors),
      };
    }
    case "configs": {
      const configs = await recipes.listConfigs(options);
      return {
        data: { configs, count: configs.length },
        human: render.renderConfigList(configs, ctx.colors),
      };
    }
  }
}

export function registerList(program: Command): void {
  program
    .command("list")
    .description(
      "list models with recipes, recipes, configs (each recipe planned on its own GPU) or running instances",
    )
    .argument("<type>", LIST_TYPES.join(", "))
    .option("--filter <text>", "only entries whose id, model, engine, GPU, precision or metric contains it")
    .option(
      "--recipes-dir <dir>",
      "your recipes (default: <data-dir>/recipes/), merged over the built-ins by id",
    )
    .option("--format <format>", "table or json (json = --json)", parseFormat)
    .action(action(runList));
}
