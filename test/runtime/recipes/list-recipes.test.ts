import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listConfigs, listRecipeModels, listRecipes } from "../../../src/runtime/recipes/list-recipes.js";

describe("listing recipes", () => {
  it("filters recipes by text in the id, model, engine or GPU", async () => {
    const all = await listRecipes();
    const qwen = await listRecipes({ filter: "QWEN" });
    expect(qwen.length).toBeGreaterThan(0);
    expect(qwen.length).toBeLessThan(all.length);
    expect(qwen.every((r) => `${r.id} ${r.model}`.toLowerCase().includes("qwen"))).toBe(true);
    const mi300x = await listRecipes({ filter: "mi300x" });
    expect(mi300x.every((r) => r.hardware.includes("mi300x"))).toBe(true);
  });

  it("groups the library by model", async () => {
    const models = await listRecipeModels({ filter: "Qwen/Qwen3-8B" });
    const qwen = models.find((m) => m.model === "Qwen/Qwen3-8B");
    expect(qwen).toMatchObject({ inCatalog: true });
    expect(qwen?.recipes).toBeGreaterThanOrEqual(2);
    expect(qwen?.hardware).toContain("h100-sxm");
  });

  it("plans every built-in recipe on its reference GPU, and each fits", async () => {
    const configs = await listConfigs();
    expect(configs.length).toBeGreaterThanOrEqual(32);
    for (const config of configs) {
      expect(config.error, config.id).toBeNull();
      expect(config.plan?.fits, config.id).toBe(true);
      expect(config.gpu).toBe(config.hardware[0]);
    }
  });

  it("lists a user recipe for a model outside the catalog with the reason it was not planned", async () => {
    const recipesDir = mkdtempSync(join(tmpdir(), "sp-user-recipes-"));
    writeFileSync(
      join(recipesDir, "x.yaml"),
      `id: someone-model-h100
model: someone/not-a-catalog-model
engine: vllm
engineVersion: 0.11.0
hardware: [h100-sxm]
gpuCount: 1
precision: bf16
metric: latency
source: https://example.com/x
`,
    );
    const [config] = await listConfigs({ recipesDir, filter: "someone" });
    expect(config?.plan).toBeNull();
    expect(config?.error).toBe("someone/not-a-catalog-model is not in the model catalog");
  });
});
