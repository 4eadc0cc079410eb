/** Writes the published JSON Schemas (schemas/*.json) from their zod sources: `npm run schemas`. */
import { writeFileSync } from "node:fs";
import { profileJsonSchema } from "../src/core/plan/profile-schema-json.js";
import { recipeJsonSchema } from "../src/core/recipes/recipe-schema-json.js";

const schemas: Array<[string, Record<string, unknown>]> = [
  ["profile-v1.schema.json", profileJsonSchema()],
  ["recipe-v1.schema.json", recipeJsonSchema()],
];
for (const [name, schema] of schemas) {
  const path = new URL(`../schemas/${name}`, import.meta.url);
  writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${path.pathname}`);
}
