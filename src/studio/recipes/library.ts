/**
 * The recipe library as the studio shows it: recipes stored in the studio's database, the built-ins
 * (data/recipes/) and the recipe files of the recipe directory (`<dataDir>/recipes/` or --recipes-dir),
 * each marked with where it comes from. Ids are unique across all three: a studio recipe cannot take
 * the id of a built-in or file recipe (those are edited where they live).
 */
import type { FlagRegistry } from "../../core/engines/flag-registry.js";
import type { EngineName } from "../../core/memory/types.js";
import { RECIPE_ENGINES } from "../../core/recipes/recipe.js";
import { loadFlagRegistry } from "../../runtime/catalog/flag-registry.js";
import { loadRecipes } from "../../runtime/recipes/load-recipes.js";
import type { StudioContext } from "../context.js";
import { type ParseStudioRecipeOptions, type StudioRecipe, toDocument } from "./schema.js";
import { listStoredRecipes } from "./store.js";

export type RecipeSource = "studio" | "builtin" | "file";

export interface LibraryRecipe {
  id: string;
  source: RecipeSource;
  /** The recipe file for built-in and file recipes. */
  file: string | null;
  recipe: Record<string, unknown>;
  createdAt: string | null;
  updatedAt: string | null;
}

/** Built-in and file recipes (not the studio's), by id. */
export async function fileRecipes(ctx: StudioContext): Promise<Map<string, LibraryRecipe>> {
  const { records } = await loadRecipes({ dataDir: ctx.dataDir, recipesDir: ctx.options.recipesDir });
  const byId = new Map<string, LibraryRecipe>();
  for (const { recipe, origin } of records) {
    byId.set(recipe.id, {
      id: recipe.id,
      source: origin.kind === "builtin" ? "builtin" : "file",
      file: origin.file,
      recipe: toDocument({ recipe, extraArgs: [], autoRestart: false, engineProgram: null }),
      createdAt: null,
      updatedAt: null,
    });
  }
  return byId;
}

export function studioEntry(studio: StudioRecipe, createdAt: string, updatedAt: string): LibraryRecipe {
  return {
    id: studio.recipe.id,
    source: "studio",
    file: null,
    recipe: toDocument(studio),
    createdAt,
    updatedAt,
  };
}

/** Every recipe: the studio's first, then built-in and file recipes. */
export async function listLibrary(ctx: StudioContext): Promise<LibraryRecipe[]> {
  const [stored, files] = await Promise.all([listStoredRecipes(ctx.db), fileRecipes(ctx)]);
  const studio = stored.map((s) => studioEntry(s.studio, s.createdAt, s.updatedAt));
  const taken = new Set(studio.map((s) => s.id));
  return [...studio, ...[...files.values()].filter((f) => !taken.has(f.id))];
}

let registries: Promise<Partial<Record<EngineName, FlagRegistry>>> | null = null;

/** The engines' flag registries, loaded once per process. */
export function flagRegistries(): Promise<Partial<Record<EngineName, FlagRegistry>>> {
  registries ??= Promise.all(RECIPE_ENGINES.map(async (e) => [e, await loadFlagRegistry(e)] as const)).then(
    (pairs) => Object.fromEntries(pairs),
  );
  return registries;
}

/** The validation policy of this studio. */
export async function recipePolicy(ctx: StudioContext): Promise<ParseStudioRecipeOptions> {
  return { allowCustomCommands: ctx.options.allowCustomCommands, flagRegistry: await flagRegistries() };
}
