import { isServepilotError } from "../../core/errors.js";
import type { EngineName } from "../../core/memory/types.js";
import { describeModel } from "../../core/model/describe-model.js";
import type { RecipeRecord } from "../../core/recipes/merge-recipes.js";
import type { Recipe, RecipeMetric, RecipePrecision } from "../../core/recipes/recipe.js";
import { loadEngineCatalog } from "../catalog/engine-catalog.js";
import { loadGpuCatalog } from "../catalog/gpu-catalog.js";
import { loadModelCatalog } from "../catalog/model-catalog.js";
import { type LoadRecipesOptions, loadRecipes } from "./load-recipes.js";
import { type PlannedFigures, planFigures, planRecipeOn } from "./plan-recipe.js";

export interface ListRecipesOptions extends LoadRecipesOptions {
  /** Case-insensitive text to find in a recipe's id, model, engine, GPUs, precision or metric. */
  filter?: string | undefined;
}

export interface RecipeListing {
  id: string;
  model: string;
  engine: EngineName;
  engineVersion: string;
  hardware: string[];
  gpuCount: number;
  precision: RecipePrecision;
  metric: RecipeMetric;
  origin: RecipeRecord["origin"];
  source: string;
}

export interface ModelListing {
  model: string;
  recipes: number;
  engines: EngineName[];
  hardware: string[];
  precisions: RecipePrecision[];
  /** The model is in the model catalog (planned offline); else it is read from disk or the Hub. */
  inCatalog: boolean;
}

/** A recipe planned on its reference GPU (the first listed), or why it could not be planned. */
export interface ConfigListing extends RecipeListing {
  gpu: string;
  plan: PlannedFigures | null;
  error: string | null;
}

function matches(recipe: Recipe, needle: string | undefined): boolean {
  if (!needle) return true;
  const text = needle.toLowerCase();
  return [recipe.id, recipe.model, recipe.engine, recipe.precision, recipe.metric, ...recipe.hardware].some(
    (field) => field.toLowerCase().includes(text),
  );
}

function listing({ recipe, origin }: RecipeRecord): RecipeListing {
  return {
    id: recipe.id,
    model: recipe.model,
    engine: recipe.engine,
    engineVersion: recipe.engineVersion,
    hardware: recipe.hardware,
    gpuCount: recipe.gpuCount,
    precision: recipe.precision,
    metric: recipe.metric,
    origin,
    source: recipe.source,
  };
}

async function filtered(options: ListRecipesOptions): Promise<RecipeRecord[]> {
  const { records } = await loadRecipes(options);
  return records.filter((r) => matches(r.recipe, options.filter));
}

/** `list recipes`: the recipe library (built-ins with the user's merged over them). */
export async function listRecipes(options: ListRecipesOptions = {}): Promise<RecipeListing[]> {
  return (await filtered(options)).map(listing);
}

/** `list models`: the models recipes exist for, with what the recipes cover. */
export async function listRecipeModels(options: ListRecipesOptions = {}): Promise<ModelListing[]> {
  const [records, catalog] = await Promise.all([
    filtered(options),
    loadModelCatalog({ dataDir: options.dataDir ?? null }),
  ]);
  const byModel = new Map<string, Recipe[]>();
  for (const { recipe } of records) byModel.set(recipe.model, [...(byModel.get(recipe.model) ?? []), recipe]);
  const unique = <T>(values: T[]) => [...new Set(values)];
  return [...byModel.entries()].map(([model, recipes]) => ({
    model,
    recipes: recipes.length,
    engines: unique(recipes.map((r) => r.engine)),
    hardware: unique(recipes.flatMap((r) => r.hardware)),
    precisions: unique(recipes.map((r) => r.precision)),
    inCatalog: catalog.find(model) !== undefined,
  }));
}

/**
 * `list configs`: every recipe planned on its reference GPU with its GPU count (offline: the model
 * comes from the model catalog; a recipe for a model outside it is listed with the reason).
 */
export async function listConfigs(options: ListRecipesOptions = {}): Promise<ConfigListing[]> {
  const dataDir = options.dataDir ?? null;
  const [records, models, gpus, engines] = await Promise.all([
    filtered(options),
    loadModelCatalog({ dataDir }),
    loadGpuCatalog({ dataDir }),
    loadEngineCatalog({ dataDir }),
  ]);
  return records.map((record): ConfigListing => {
    const { recipe } = record;
    const gpuId = recipe.hardware[0] ?? "";
    const base = { ...listing(record), gpu: gpuId };
    const entry = models.find(recipe.model);
    const gpu = gpus.find((g) => g.id === gpuId);
    if (!entry) return { ...base, plan: null, error: `${recipe.model} is not in the model catalog` };
    if (!gpu) return { ...base, plan: null, error: `${gpuId} is not in the GPU catalog` };
    try {
      const model = describeModel({ config: entry.config, label: `${entry.origin.file}: ${entry.id}` });
      const plan = planRecipeOn(recipe, { modelId: entry.id, model, gpu, engines });
      return { ...base, plan: planFigures(plan), error: null };
    } catch (error) {
      if (!isServepilotError(error)) throw error;
      return { ...base, plan: null, error: error.message };
    }
  });
}
