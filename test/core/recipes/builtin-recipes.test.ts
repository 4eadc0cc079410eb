import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkArgv, type FlagRegistry, parseFlagRegistry } from "../../../src/core/engines/flag-registry.js";
import type { EngineName } from "../../../src/core/memory/types.js";
import { describeModel } from "../../../src/core/model/describe-model.js";
import { buildPlan } from "../../../src/core/plan/build-plan.js";
import { parseRecipesFile } from "../../../src/core/recipes/parse-recipes-file.js";
import type { Recipe } from "../../../src/core/recipes/recipe.js";
import { recipeSettings } from "../../../src/core/recipes/recipe-settings.js";
import { loadEngineCatalog } from "../../../src/runtime/catalog/engine-catalog.js";
import { loadGpuCatalog } from "../../../src/runtime/catalog/gpu-catalog.js";
import { loadModelCatalog } from "../../../src/runtime/catalog/model-catalog.js";
import { launchArgv } from "../../../src/runtime/engines/adapters.js";

/**
 * Acceptance for the built-in library (data/recipes/): every file passes the schema, every recipe
 * names catalog models and GPUs, plans and fits on its first listed GPU with its GPU count and engine
 * release, and renders an engine command (as planned, and as `launch` runs it) that the engine's flag
 * registry accepts for that release.
 */
const RECIPES_DIR = new URL("../../../data/recipes/", import.meta.url);
const files = readdirSync(RECIPES_DIR).filter((name) => name.endsWith(".yaml"));
const recipes: Recipe[] = files.flatMap((name) =>
  parseRecipesFile(`data/recipes/${name}`, readFileSync(new URL(name, RECIPES_DIR), "utf8")),
);
const [models, gpus, engines] = await Promise.all([
  loadModelCatalog(),
  loadGpuCatalog(),
  loadEngineCatalog(),
]);
const registries: Record<EngineName, FlagRegistry> = Object.fromEntries(
  (["vllm", "sglang", "llamacpp"] as const).map((engine) => [
    engine,
    parseFlagRegistry(
      parse(readFileSync(new URL(`../../../data/engines/flags/${engine}.yaml`, import.meta.url), "utf8")),
      engine,
    ),
  ]),
) as Record<EngineName, FlagRegistry>;
const SKIP: Record<EngineName, number> = { vllm: 3, sglang: 3, llamacpp: 1 };

function planRecipe(recipe: Recipe) {
  const entry = models.find(recipe.model);
  if (!entry) throw new Error(`${recipe.id}: ${recipe.model} is not in the model catalog`);
  const gpu = gpus.find((g) => g.id === recipe.hardware[0]);
  if (!gpu) throw new Error(`${recipe.id}: ${recipe.hardware[0]} is not in the GPU catalog`);
  const model = describeModel({ config: entry.config, label: entry.id });
  const plan = buildPlan({
    modelId: entry.id,
    model,
    gpu,
    gpuCount: recipe.gpuCount,
    nodes: 1,
    gpusPerNode: recipe.gpuCount,
    engine: recipe.engine,
    engineVersion: recipe.engineVersion,
    engineSpecs: engines,
    efficiency: engines.efficiency,
    user: recipeSettings(recipe),
    workload: { promptTokens: 1024, genTokens: 256, concurrency: 16, batchingMode: recipe.metric },
  });
  return { plan, model };
}

/** The precision a recipe runs at, from the checkpoint's quantization and the recipe's online quantization. */
function effectivePrecision(recipe: Recipe, scheme: string | null, weightBits: number | null): string {
  if (recipe.engineArgs.quantization === "fp8") return "fp8";
  if (scheme === null)
    return recipe.engineArgs.dtype === "float16" || recipe.precision === "fp16" ? "fp16" : "bf16";
  if (scheme === "mxfp4") return "mxfp4";
  if (scheme.includes("fp8")) return "fp8";
  return weightBits === 4 ? "int4" : weightBits === 8 ? "int8" : scheme;
}

describe("built-in recipes", () => {
  it("form a library of at least 32 recipes for at least 12 models, NVIDIA and AMD, vLLM and SGLang", () => {
    expect(recipes.length).toBeGreaterThanOrEqual(32);
    expect(new Set(recipes.map((r) => r.model)).size).toBeGreaterThanOrEqual(12);
    const listed = new Set(recipes.flatMap((r) => r.hardware));
    for (const gpu of ["h100-sxm", "a100-sxm4-80gb", "l40s", "rtx-4090", "mi300x", "mi325x"]) {
      expect(listed, gpu).toContain(gpu);
    }
    expect(new Set(recipes.map((r) => r.engine))).toEqual(new Set(["vllm", "sglang"]));
    expect(new Set(recipes.map((r) => r.metric))).toEqual(new Set(["latency", "throughput"]));
  });

  it("have unique ids across files", () => {
    const ids = recipes.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it("name catalog models and catalog GPUs", () => {
    const known = new Set(gpus.map((g) => g.id));
    for (const recipe of recipes) {
      expect(models.find(recipe.model)?.id, recipe.id).toBe(recipe.model);
      for (const id of recipe.hardware) expect(known.has(id), `${recipe.id}: ${id}`).toBe(true);
    }
  });

  it.each(recipes.map((r) => [r.id, r] as const))(
    "%s fits on its first GPU and its argv passes the registry",
    (_, recipe) => {
      const { plan, model } = planRecipe(recipe);
      expect(plan.fits, plan.reasons.join("\n")).toBe(true);
      expect(plan.config.engineVersion).toBe(recipe.engineVersion);
      expect(plan.config.tensorParallelSize).toBe(recipe.engineArgs.tensorParallelSize ?? 1);
      if (recipe.engineArgs.maxModelLen) expect(plan.config.maxModelLen).toBe(recipe.engineArgs.maxModelLen);
      const problems = checkArgv(registries[recipe.engine], plan.artifacts.serveArgv, {
        engine: recipe.engine,
        version: recipe.engineVersion,
        skip: SKIP[recipe.engine],
      });
      expect(problems.map((p) => p.message)).toEqual([]);
      // what `launch` runs: the same argv with host, port and served name added
      const launched = launchArgv({
        engine: recipe.engine,
        program: recipe.engine === "vllm" ? "vllm" : recipe.engine === "sglang" ? "python3" : "llama-server",
        serveArgv: plan.artifacts.serveArgv,
        host: "127.0.0.1",
        port: 8123,
        servedModelName: recipe.model,
      });
      const launchProblems = checkArgv(registries[recipe.engine], launched, {
        engine: recipe.engine,
        version: recipe.engineVersion,
        skip: SKIP[recipe.engine],
      });
      expect(launchProblems.map((p) => p.message)).toEqual([]);
      const quant = model.architecture.quantization;
      expect(effectivePrecision(recipe, quant?.scheme ?? null, quant?.weightBits ?? null)).toBe(
        recipe.precision,
      );
    },
  );
});
