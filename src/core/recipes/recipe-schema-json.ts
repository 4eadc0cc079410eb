import { z } from "zod";
import { RecipeSchema } from "./recipe.js";

/**
 * The recipe file's JSON Schema (published as schemas/recipe-v1.schema.json for editors and CI): a
 * file holds one recipe or a list of them.
 */
export function recipeJsonSchema(): Record<string, unknown> {
  const { $schema, ...recipe } = z.toJSONSchema(RecipeSchema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return {
    $schema,
    $id: "https://servepilot.dev/schemas/recipe-v1.schema.json",
    title: "servepilot recipe file (version 1)",
    anyOf: [{ type: "array", items: { $ref: "#/$defs/recipe" } }, { $ref: "#/$defs/recipe" }],
    $defs: { recipe },
  };
}
