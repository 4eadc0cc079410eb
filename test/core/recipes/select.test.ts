import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import type { GpuSpec } from "../../../src/core/gpu/gpu-spec.js";
import type { Plan } from "../../../src/core/plan/types.js";
import { type Recipe, type RecipeInput, RecipeSchema } from "../../../src/core/recipes/recipe.js";
import { runsNatively, selectRecipes } from "../../../src/core/recipes/select.js";
import { loadGpuCatalog } from "../../../src/runtime/catalog/gpu-catalog.js";

const gpus = await loadGpuCatalog();
function gpu(id: string): GpuSpec {
  const entry = gpus.find((g) => g.id === id);
  if (!entry) throw new Error(`no catalog GPU ${id}`);
  return entry;
}

function recipe(id: string, overrides: Partial<RecipeInput> = {}): Recipe {
  return RecipeSchema.parse({
    id,
    model: "Qwen/Qwen3-32B",
    engine: "vllm",
    engineVersion: "0.11.0",
    hardware: ["h100-sxm"],
    gpuCount: 1,
    precision: "bf16",
    metric: "throughput",
    source: "https://docs.vllm.ai/projects/recipes/en/latest/Qwen/Qwen3.html",
    ...overrides,
  });
}

/** A stand-in for the planner: fits unless the recipe id says otherwise; records what was planned. */
function fakePlanner() {
  const planned: string[] = [];
  const planRecipe = (r: Recipe): Plan => {
    planned.push(r.id);
    if (r.id.includes("invalid"))
      throw new ServepilotError("INVALID_ARGUMENT", "--tensor-parallel-size 3 does not divide 64 heads");
    const fits = !r.id.includes("too-big");
    const reasons = fits
      ? ["fits: 61 GiB of weights"]
      : [
          "does not fit: weights need 61.02 GiB per GPU but only 40 GiB is available",
          "fix: --tensor-parallel-size 2 fits",
        ];
    return { fits, reasons } as unknown as Plan;
  };
  return { planned, planRecipe };
}

describe("selectRecipes", () => {
  it("ranks exact hardware first, then the requested metric, then native precision, then fewer GPUs", () => {
    const recipes = [
      recipe("sibling-gpu", { hardware: ["h100-pcie"] }),
      recipe("latency-1", { metric: "latency" }),
      recipe("int4-tp1", { precision: "int4" }),
      recipe("bf16-tp2", { gpuCount: 2, engineArgs: { tensorParallelSize: 2 } }),
      recipe("bf16-tp1"),
    ];
    const { planRecipe } = fakePlanner();
    const selection = selectRecipes({
      recipes,
      model: "qwen/qwen3-32b",
      gpu: gpu("h100-sxm"),
      gpuCount: 8,
      metric: "throughput",
      catalog: gpus,
      planRecipe,
    });
    expect(selection.candidates.map((c) => c.recipe.id)).toEqual([
      "bf16-tp1",
      "bf16-tp2",
      "int4-tp1",
      "latency-1",
      "sibling-gpu",
    ]);
    expect(selection.candidates[4]?.hardwareMatch).toBe("same-architecture");
    expect(selection.rejected).toEqual([]);
    expect(selection.summary).toMatch(
      /^recipe bf16-tp1 \(tuned for h100-sxm; optimizes throughput; bf16 runs natively/,
    );
  });

  it("without a metric, a native precision beats fewer GPUs", () => {
    const recipes = [
      recipe("fp8-1", { precision: "fp8", hardware: ["a100-sxm4-80gb"] }),
      recipe("bf16-2", { hardware: ["a100-sxm4-80gb"], gpuCount: 2 }),
    ];
    const { planRecipe } = fakePlanner();
    const selection = selectRecipes({
      recipes,
      model: "Qwen/Qwen3-32B",
      gpu: gpu("a100-sxm4-80gb"),
      gpuCount: 2,
      planRecipe,
    });
    expect(selection.candidates.map((c) => [c.recipe.id, c.nativePrecision])).toEqual([
      ["bf16-2", true],
      ["fp8-1", false],
    ]);
  });

  it("rejects each recipe with its reason, and plans only those that pass the cheap checks", () => {
    const recipes = [
      recipe("other", { model: "Qwen/Qwen3-8B" }),
      recipe("sglang", { engine: "sglang", engineVersion: "0.5.3" }),
      recipe("fp8", { precision: "fp8" }),
      recipe("amd", { hardware: ["mi300x"] }),
      recipe("four", { gpuCount: 4, engineArgs: { tensorParallelSize: 4 } }),
      recipe("too-big"),
      recipe("invalid-tp"),
    ];
    const { planned, planRecipe } = fakePlanner();
    const selection = selectRecipes({
      recipes,
      model: "Qwen/Qwen3-32B",
      gpu: gpu("h100-sxm"),
      gpuCount: 2,
      engine: "vllm",
      precision: "bf16",
      planRecipe,
    });
    expect(selection.candidates).toEqual([]);
    expect(selection.rejected.map((r) => [r.recipe.id, r.code, r.reason])).toEqual([
      ["other", "other-model", "for Qwen/Qwen3-8B, not Qwen/Qwen3-32B"],
      ["sglang", "engine-mismatch", "runs sglang, vllm was requested"],
      ["fp8", "precision-mismatch", "runs fp8, bf16 was requested"],
      ["amd", "gpu-not-listed", "tuned for mi300x, not h100-sxm"],
      ["four", "not-enough-gpus", "needs 4 GPUs but 2 are free"],
      [
        "too-big",
        "does-not-fit",
        "does not fit on h100-sxm: weights need 61.02 GiB per GPU but only 40 GiB is available",
      ],
      [
        "invalid-tp",
        "invalid-settings",
        "its settings are refused: --tensor-parallel-size 3 does not divide 64 heads",
      ],
    ]);
    expect(planned).toEqual(["too-big", "invalid-tp"]);
    expect(selection.summary).toBe(
      "no recipe qualifies for Qwen/Qwen3-32B on 2 x h100-sxm (vllm, bf16): use a planner-generated configuration",
    );
  });

  it("does not take a recipe for another architecture of the same vendor, even with the catalog", () => {
    const { planRecipe } = fakePlanner();
    const selection = selectRecipes({
      recipes: [recipe("a100", { hardware: ["a100-sxm4-80gb"] })],
      model: "Qwen/Qwen3-32B",
      gpu: gpu("h100-sxm"),
      gpuCount: 1,
      catalog: gpus,
      planRecipe,
    });
    expect(selection.rejected.map((r) => r.code)).toEqual(["gpu-not-listed"]);
  });

  it("lets errors that are not user-input errors through", () => {
    const planRecipe = (): Plan => {
      throw new TypeError("bug");
    };
    expect(() =>
      selectRecipes({
        recipes: [recipe("x")],
        model: "Qwen/Qwen3-32B",
        gpu: gpu("h100-sxm"),
        gpuCount: 1,
        planRecipe,
      }),
    ).toThrow(TypeError);
  });
});

describe("runsNatively", () => {
  it("needs FP8 tensor cores for fp8 and FP4 ones for mxfp4; int4 is always dequantized", () => {
    expect(runsNatively(gpu("h100-sxm"), "fp8")).toBe(true);
    expect(runsNatively(gpu("mi300x"), "fp8")).toBe(true);
    expect(runsNatively(gpu("a100-sxm4-80gb"), "fp8")).toBe(false);
    expect(runsNatively(gpu("h100-sxm"), "mxfp4")).toBe(false);
    expect(runsNatively(gpu("a100-sxm4-80gb"), "bf16")).toBe(true);
    expect(runsNatively(gpu("rtx-4090"), "int4")).toBe(false);
  });
});
