import type { ConfigListing, ModelListing, RecipeListing } from "../../runtime/recipes/list-recipes.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

function origin(entry: { origin: { kind: string; file: string } }, c: Colors): string {
  return entry.origin.kind === "user" ? c.cyan(entry.origin.file) : "built-in";
}

export function renderRecipeModels(models: readonly ModelListing[], c: Colors): string {
  if (models.length === 0) return "no recipe matches\n";
  return renderTable(
    ["model", "recipes", "engines", "gpus", "precisions"],
    models.map((m) => [
      m.inCatalog ? m.model : `${m.model} ${c.dim("(not in catalog)")}`,
      String(m.recipes),
      m.engines.join(", "),
      m.hardware.join(", "),
      m.precisions.join(", "),
    ]),
  );
}

export function renderRecipeList(recipes: readonly RecipeListing[], c: Colors): string {
  if (recipes.length === 0) return "no recipe matches\n";
  return renderTable(
    ["id", "model", "engine", "gpus", "precision", "metric", "from"],
    recipes.map((r) => [
      r.id,
      r.model,
      `${r.engine} ${r.engineVersion}`,
      `${r.gpuCount} x ${r.hardware.join("/")}`,
      r.precision,
      r.metric,
      origin(r, c),
    ]),
  );
}

export function renderConfigList(configs: readonly ConfigListing[], c: Colors): string {
  if (configs.length === 0) return "no recipe matches\n";
  return renderTable(
    ["id", "model", "gpus", "fits", "TP", "context", "kv tokens", "concur.", "from"],
    configs.map((cfg) => [
      cfg.id,
      cfg.model,
      `${cfg.gpuCount} x ${cfg.gpu}`,
      cfg.plan === null ? c.yellow(`? ${cfg.error}`) : cfg.plan.fits ? c.green("yes") : c.red("no"),
      cfg.plan ? String(cfg.plan.tensorParallelSize) : "-",
      cfg.plan ? String(cfg.plan.maxModelLen) : "-",
      cfg.plan ? String(cfg.plan.kvCache.tokens) : "-",
      cfg.plan ? `${cfg.plan.kvCache.maxConcurrency}x` : "-",
      origin(cfg, c),
    ]),
  );
}
