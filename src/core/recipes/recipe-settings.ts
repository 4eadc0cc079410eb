import type { UserEngineSettings } from "../plan/types.js";
import type { Recipe } from "./recipe.js";

/**
 * The planner settings a recipe asks for. Everything a recipe states is honoured by the plan
 * (DESIGN.md: values the user gives are never silently replaced); what it leaves out the planner
 * chooses. fp16 recipes run the checkpoint in float16 unless they name a dtype.
 */
export function recipeSettings(recipe: Recipe): UserEngineSettings {
  const settings: UserEngineSettings = { ...recipe.engineArgs };
  if (recipe.precision === "fp16" && settings.dtype === undefined) settings.dtype = "float16";
  return settings;
}
