import { ServepilotError } from "../errors.js";
import type { Recipe } from "./recipe.js";

/** A recipe with the file it was read from. */
export interface RecipeRecord {
  recipe: Recipe;
  origin: { kind: "builtin" | "user"; file: string };
}

/**
 * Layers recipe sets: a later layer's recipe replaces an earlier one with the same id (the user's
 * directory over the built-ins), keeping its place in the order. Two recipes with one id in the same
 * layer are an error naming both files.
 */
export function mergeRecipes(...layers: ReadonlyArray<readonly RecipeRecord[]>): RecipeRecord[] {
  const byId = new Map<string, RecipeRecord>();
  for (const layer of layers) {
    const inLayer = new Map<string, RecipeRecord>();
    for (const record of layer) {
      const twin = inLayer.get(record.recipe.id);
      if (twin) {
        throw new ServepilotError(
          "INVALID_DATA_FILE",
          `recipe id ${record.recipe.id} is defined twice: in ${twin.origin.file} and in ${record.origin.file}`,
          { hint: "rename one of them; an id replaces a built-in recipe only from another layer" },
        );
      }
      inLayer.set(record.recipe.id, record);
      byId.set(record.recipe.id, record);
    }
  }
  return [...byId.values()];
}
