import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isServepilotError } from "../../../src/core/errors.js";
import { loadRecipes } from "../../../src/runtime/recipes/load-recipes.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sp-recipes-"));
}

const USER_RECIPE = `- id: qwen3-8b-h100-bf16-throughput
  model: Qwen/Qwen3-8B
  engine: vllm
  engineVersion: 0.11.0
  hardware: [h100-sxm]
  gpuCount: 1
  precision: bf16
  metric: throughput
  engineArgs:
    maxModelLen: 8192
  source: https://example.com/my-recipe
- id: my-own-recipe
  model: Qwen/Qwen3-8B
  engine: vllm
  engineVersion: 0.11.0
  hardware: [l40s]
  gpuCount: 1
  precision: bf16
  metric: latency
  source: https://example.com/my-recipe
`;

async function loadError(options: Parameters<typeof loadRecipes>[0]) {
  try {
    await loadRecipes(options);
  } catch (error) {
    if (isServepilotError(error)) return error;
    throw error;
  }
  throw new Error("expected loadRecipes to fail");
}

describe("loadRecipes", () => {
  it("loads the built-in library with each recipe's file", async () => {
    const { records, files } = await loadRecipes();
    expect(records.length).toBeGreaterThanOrEqual(32);
    expect(files.every((file) => /data\/recipes\/[\w.-]+\.yaml$/.test(file))).toBe(true);
    const qwen = records.find((r) => r.recipe.id === "qwen3-8b-h100-bf16-throughput");
    expect(qwen?.origin).toEqual({ kind: "builtin", file: "data/recipes/qwen.yaml" });
  });

  it("merges <data-dir>/recipes/ over the built-ins by id, keeping the built-in's place", async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, "recipes"));
    writeFileSync(join(dataDir, "recipes", "mine.yaml"), USER_RECIPE);
    const builtin = (await loadRecipes()).records;
    const { records } = await loadRecipes({ dataDir });
    expect(records).toHaveLength(builtin.length + 1);
    const index = records.findIndex((r) => r.recipe.id === "qwen3-8b-h100-bf16-throughput");
    expect(index).toBe(builtin.findIndex((r) => r.recipe.id === "qwen3-8b-h100-bf16-throughput"));
    expect(records[index]?.recipe.engineArgs.maxModelLen).toBe(8192);
    expect(records[index]?.origin).toEqual({ kind: "user", file: join(dataDir, "recipes", "mine.yaml") });
    expect(records.at(-1)?.recipe.id).toBe("my-own-recipe");
  });

  it("prefers --recipes-dir over <data-dir>/recipes/", async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, "recipes"));
    writeFileSync(join(dataDir, "recipes", "broken.yaml"), "- id: [unclosed\n");
    const recipesDir = tempDir();
    writeFileSync(join(recipesDir, "mine.yml"), USER_RECIPE);
    const { records } = await loadRecipes({ dataDir, recipesDir });
    expect(records.some((r) => r.recipe.id === "my-own-recipe")).toBe(true);
  });

  it("accepts a data directory without recipes/", async () => {
    const { records } = await loadRecipes({ dataDir: tempDir() });
    expect(records.every((r) => r.origin.kind === "builtin")).toBe(true);
  });

  it("refuses a --recipes-dir that does not exist, naming the flag", async () => {
    const error = await loadError({ recipesDir: join(tempDir(), "missing") });
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/^--recipes-dir .*missing: .*does not exist/);
  });

  it("names file:line of an invalid user recipe", async () => {
    const recipesDir = tempDir();
    const file = join(recipesDir, "bad.yaml");
    writeFileSync(file, USER_RECIPE.replace("maxModelLen: 8192", 'maxModelLen: "long"'));
    const error = await loadError({ recipesDir });
    expect(error.code).toBe("INVALID_DATA_FILE");
    expect(error.message).toContain(`${file}:10:`);
    expect(error.message).toContain("engineArgs.maxModelLen");
  });

  it("refuses one id twice among the user's files, naming both", async () => {
    const recipesDir = tempDir();
    writeFileSync(join(recipesDir, "a.yaml"), USER_RECIPE);
    writeFileSync(join(recipesDir, "b.yaml"), USER_RECIPE);
    const error = await loadError({ recipesDir });
    expect(error.message).toContain(join(recipesDir, "a.yaml"));
    expect(error.message).toContain(join(recipesDir, "b.yaml"));
  });
});
