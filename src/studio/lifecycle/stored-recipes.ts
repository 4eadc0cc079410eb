/**
 * Stored (studio) recipes for launches that name one by `recipeId`: the recipe joins the runtime's
 * recipe resolution (extraRecipes), its extra engine arguments are appended (checked against the
 * engine's flag registry by the runtime), and its autoRestart is the launch's default.
 */
import type { Kysely } from "kysely";
import type { StudioDatabase } from "../db/schema.js";
import type { StudioRecipe } from "../recipes/schema.js";
import { getStoredRecipe } from "../recipes/store.js";

export async function storedRecipe(db: Kysely<StudioDatabase>, id: string): Promise<StudioRecipe | null> {
  return getStoredRecipe(db, id);
}
