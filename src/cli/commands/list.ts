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
    // the launcher (instances) is not implemented yet
    return {
      data: { instances: [], count: 0 },
      human: "no instances (the launcher is not implemented yet)\n",
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
