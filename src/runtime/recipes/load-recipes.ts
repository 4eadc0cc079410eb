import { join, relative } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { mergeRecipes, type RecipeRecord } from "../../core/recipes/merge-recipes.js";
import { parseRecipesFile } from "../../core/recipes/parse-recipes-file.js";
import type { Recipe } from "../../core/recipes/recipe.js";
import { listYamlFiles, readSources } from "../catalog/load-entries.js";
import { BUILTIN_DATA_DIR } from "../paths.js";

export interface LoadRecipesOptions {
  /** servepilot's data directory: user recipes are read from `<dataDir>/recipes/` when it exists. */
  dataDir?: string | null;
  /** A directory of user recipes (`--recipes-dir`); replaces `<dataDir>/recipes/` and must exist. */
  recipesDir?: string | null;
  /** Recipes from elsewhere (the studio's stored recipes), layered over the files by id. */
  extraRecipes?: readonly Recipe[];
}

export interface LoadedRecipes {
  /** Built-in recipes with the user's merged over them by id (a user recipe keeps the built-in's place). */
  records: RecipeRecord[];
  /** Files read, built-ins first. */
  files: string[];
}

/** The built-in recipe directory (data/recipes/). */
export const BUILTIN_RECIPES_DIR = join(BUILTIN_DATA_DIR, "recipes");

function listRecipeFiles(dir: string, required: boolean, flag: string): Promise<string[]> {
  return listYamlFiles(
    dir,
    required,
    (code, error) =>
      new ServepilotError(
        "INVALID_ARGUMENT",
        `${flag} ${dir}: cannot read the recipe directory (${code === "ENOENT" ? "it does not exist" : (code ?? "error")})`,
        { cause: error },
      ),
  );
}

async function readRecipeFiles(
  files: readonly string[],
  kind: RecipeRecord["origin"]["kind"],
  label: (file: string) => string,
): Promise<RecipeRecord[]> {
  const sources = await readSources(files);
  // parseRecipesFile names file:line:col of the offending value
  return sources.flatMap(({ path, text }) =>
    parseRecipesFile(label(path), text).map(
      (recipe): RecipeRecord => ({ recipe, origin: { kind, file: label(path) } }),
    ),
  );
}

/**
 * Loads the recipe library: the built-ins (data/recipes/*.yaml), then the user's YAML files from
 * `recipesDir`, else `<dataDir>/recipes/` (absent is fine), then `extraRecipes`, merged by id
 * (docs/recipes.md).
 */
export async function loadRecipes(options: LoadRecipesOptions = {}): Promise<LoadedRecipes> {
  const userDir = options.recipesDir ?? (options.dataDir ? join(options.dataDir, "recipes") : null);
  const [builtinFiles, userFiles] = await Promise.all([
    listRecipeFiles(BUILTIN_RECIPES_DIR, true, "data/recipes"),
    userDir ? listRecipeFiles(userDir, options.recipesDir != null, "--recipes-dir") : Promise.resolve([]),
  ]);
  const [builtin, user] = await Promise.all([
    readRecipeFiles(builtinFiles, "builtin", (file) => join("data", relative(BUILTIN_DATA_DIR, file))),
    readRecipeFiles(userFiles, "user", (file) => file),
  ]);
  const extra = (options.extraRecipes ?? []).map(
    (recipe): RecipeRecord => ({ recipe, origin: { kind: "user", file: `stored recipe ${recipe.id}` } }),
  );
  return { records: mergeRecipes(builtin, user, extra), files: [...builtinFiles, ...userFiles] };
}
