import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recipeInfo } from "../../../src/runtime/recipes/recipe-info.js";
import { showConfig } from "../../../src/runtime/recipes/show-config.js";

/** No Hub, no HF cache of the developer's: models come from the built-in catalog. */
const options = {
  dataDir: mkdtempSync(join(tmpdir(), "sp-data-")),
  env: { HF_HUB_OFFLINE: "1", HOME: tmpdir() },
};

describe("showConfig", () => {
  it("chooses the H100 recipe for Qwen3-8B on one H100 and rejects the others with reasons", async () => {
    const result = await showConfig(
      { model: "Qwen/Qwen3-8B", gpu: "H100", gpuCount: 1, offline: true },
      options,
    );
    expect(result.selected).toBe("qwen3-8b-h100-bf16-throughput");
    expect(result.generated).toBeNull();
    const best = result.candidates[0];
    expect(best).toMatchObject({ rank: 1, selected: true, fits: true, engine: "vllm", gpuCount: 1 });
    expect(best?.kvCache.tokens).toBeGreaterThan(100_000);
    expect(best?.serveCommand).toMatch(/^vllm serve Qwen\/Qwen3-8B /);
    expect(result.rejected.map((r) => r.code)).toContain("gpu-not-listed");
    // only this model's recipes are listed
    expect(result.rejected.every((r) => r.code !== "other-model")).toBe(true);
  });

  it("resolves a catalog alias to the repo id the recipes name", async () => {
    const result = await showConfig({ model: "qwen/qwen3-8b", gpu: "H100", offline: true }, options);
    expect(result.model).toBe("Qwen/Qwen3-8B");
    expect(result.candidates.length).toBeGreaterThan(0);
  });

  it("ranks recipes for the requested metric first", async () => {
    const request = { model: "openai/gpt-oss-120b", gpu: "H100", gpuCount: 2, offline: true } as const;
    const plain = await showConfig(request, options);
    expect(plain.candidates[0]?.gpuCount).toBe(1);
    const latency = await showConfig({ ...request, metric: "latency" }, options);
    expect(latency.selected).toBe("gpt-oss-120b-h100x2-mxfp4-latency");
    expect(latency.candidates[0]?.why).toContain("optimizes latency");
    expect(latency.candidates.map((c) => c.rank)).toEqual(latency.candidates.map((_, i) => i + 1));
  });

  it("filters by engine and generates a config for that engine when none is left", async () => {
    const sglang = await showConfig(
      { model: "Qwen/Qwen3-8B", gpu: "H100", engine: "sglang", offline: true },
      options,
    );
    expect(sglang.candidates).toEqual([]);
    expect(sglang.rejected.find((r) => r.engine === "vllm")?.code).toBe("engine-mismatch");
    expect(sglang.generated).toMatchObject({ generated: true, engine: "sglang" });
  });

  it("falls back to a generated configuration when the model has no recipe", async () => {
    const result = await showConfig({ model: "google/gemma-2-2b-it", gpu: "L40S", offline: true }, options);
    expect(result.candidates).toEqual([]);
    expect(result.rejected).toEqual([]);
    expect(result.selected).toBe("generated");
    expect(result.summary).toContain("no recipe qualifies");
    expect(result.generated).toMatchObject({ generated: true, engine: "vllm", gpuCount: 1, fits: true });
    expect(result.generated?.serveCommand).toMatch(/^vllm serve google\/gemma-2-2b-it/);
  });

  it("turns --precision fp16 into a float16 dtype in the generated config", async () => {
    const result = await showConfig(
      { model: "google/gemma-2-2b-it", gpu: "L40S", precision: "fp16", offline: true },
      options,
    );
    expect(result.generated?.precision).toBe("fp16");
    expect(result.generated?.serveCommand).toContain("--dtype float16");
  });

  it("rejects a recipe that needs more GPUs than given", async () => {
    const result = await showConfig(
      { model: "Qwen/Qwen3-235B-A22B-FP8", gpu: "H100", gpuCount: 2, offline: true },
      options,
    );
    expect(result.rejected.some((r) => r.code === "not-enough-gpus")).toBe(true);
  });

  it("uses a user recipe from recipesDir over the built-in with the same id", async () => {
    const recipesDir = mkdtempSync(join(tmpdir(), "sp-user-recipes-"));
    writeFileSync(
      join(recipesDir, "mine.yaml"),
      `- id: qwen3-8b-h100-bf16-throughput
  model: Qwen/Qwen3-8B
  engine: vllm
  engineVersion: 0.11.0
  hardware: [h100-sxm]
  gpuCount: 1
  precision: bf16
  metric: throughput
  engineArgs: { maxModelLen: 4096 }
  source: https://example.com/mine
`,
    );
    const result = await showConfig(
      { model: "Qwen/Qwen3-8B", gpu: "H100", gpuCount: 1, recipesDir, offline: true },
      options,
    );
    expect(result.candidates[0]?.origin.kind).toBe("user");
    expect(result.candidates[0]?.maxModelLen).toBe(4096);
  });
});

describe("recipeInfo", () => {
  it("lists every recipe of the model with its verdict, the selected one first", async () => {
    const info = await recipeInfo(
      { model: "Qwen/Qwen3-32B", gpu: "H100", gpuCount: 2, offline: true },
      options,
    );
    expect(info.recipes[0]?.status).toBe("selected");
    expect(info.recipes.every((r) => r.reasons.length > 0)).toBe(true);
    const rejected = info.recipes.filter((r) => r.status === "rejected");
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((r) => r.code !== null && r.kvCacheTokens === null)).toBe(true);
  });
});

describe("rankedAfter", () => {
  it("names the first ranking key that separates a candidate from the chosen recipe", async () => {
    const info = await recipeInfo(
      { model: "openai/gpt-oss-120b", gpu: "H100", gpuCount: 2, offline: true },
      options,
    );
    const reasons = Object.fromEntries(info.recipes.map((r) => [r.id, r.reasons.at(-1)]));
    expect(reasons["gpt-oss-120b-h100x2-mxfp4-latency"]).toBe(
      "ranked 3 after gpt-oss-120b-h100-mxfp4-throughput, which uses fewer GPUs (1)",
    );
    expect(reasons["gpt-oss-120b-h100-sglang-mxfp4-throughput"]).toBe(
      "ranked 2 after gpt-oss-120b-h100-mxfp4-throughput: they tie, so the id decides",
    );
  });
});
