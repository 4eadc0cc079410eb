import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { recipeJsonSchema } from "../../../src/core/recipes/recipe-schema-json.js";

describe("published recipe JSON Schema", () => {
  const published = JSON.parse(
    readFileSync(new URL("../../../schemas/recipe-v1.schema.json", import.meta.url), "utf8"),
  );

  it("is the one generated from the zod schema (run `npm run schemas` after changing it)", () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(recipeJsonSchema())));
  });

  it("accepts a built-in recipe file and refuses unknown keys and engines", () => {
    const validate = new Ajv2020({ strict: false }).compile(published);
    const file = parse(readFileSync(new URL("../../../data/recipes/gpt-oss.yaml", import.meta.url), "utf8"));
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(file[0])).toBe(true);
    expect(validate([{ ...file[0], gpus: 2 }])).toBe(false);
    expect(validate([{ ...file[0], engine: "tgi" }])).toBe(false);
    expect(validate([{ ...file[0], engineArgs: { tensorParallel: 2 } }])).toBe(false);
  });
});
