import { describe, expect, it } from "vitest";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import { runCli } from "../helpers/run-cli.js";

describe("servepilot list", () => {
  it("lists recipes matching --filter as JSON", () => {
    const result = runCli(["list", "recipes", "--filter", "qwen", "--format", "json"]);
    expect(result.code).toBe(0);
    const { recipes, count } = result.json().data;
    expect(count).toBe(recipes.length);
    expect(count).toBeGreaterThan(0);
    for (const recipe of recipes) expect(`${recipe.id} ${recipe.model}`.toLowerCase()).toContain("qwen");
  });

  it("lists the models recipes exist for", () => {
    const result = runCli(["list", "models"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Qwen\/Qwen3-8B\s+\d+\s+vllm/);
  });

  it("lists configs: each recipe planned on its own GPU", () => {
    const result = runCli(["list", "configs", "--filter", "llama-3.1-8b", "--json"]);
    expect(result.code).toBe(0);
    const { configs } = result.json().data;
    expect(configs.length).toBeGreaterThan(0);
    for (const config of configs) {
      expect(config.plan.fits).toBe(true);
      expect(config.gpu).toBe(config.hardware[0]);
    }
  });

  it("says nothing runs in a fresh data directory", () => {
    const result = runCli(["list", "running"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("nothing is running\n");
  });

  it("exits 2 on an unknown type, listing the valid ones", () => {
    const result = runCli(["list", "gadgets", "--json"]);
    expect(result.code).toBe(2);
    expect(result.json().error.message).toContain("models, recipes, configs, running");
  });
});

describe("servepilot debug", () => {
  it("gpu-info lists the detected GPUs matched to the catalog", () => {
    const result = runCli(["debug", "gpu-info", "--json"], fakeToolsEnv("h100-sxm-8x-nvlink.json"));
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.count).toBe(8);
    expect(data.gpus[0]).toMatchObject({ catalogId: "h100-sxm", vendor: "nvidia" });
    expect(data.gpus[0].processes).toBeUndefined();
    expect(data.topology).toBeUndefined();
  });

  it("gpu-info --detailed adds processes, MIG and topology", () => {
    const result = runCli(
      ["debug", "gpu-info", "--detailed", "--json"],
      fakeToolsEnv("h100-sxm-8x-nvlink.json"),
    );
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(Array.isArray(data.gpus[0].processes)).toBe(true);
    expect(data.gpus[0].mig).toBeDefined();
    expect(data.topology.allNvlink).toBe(true);
    const human = runCli(["debug", "gpu-info", "--detailed"], fakeToolsEnv("h100-sxm-8x-nvlink.json"));
    expect(human.stdout).toContain("topology:");
    expect(human.stdout).toContain("MIG mode:");
  });

  it("gpu-info exits 3 when no GPU tool works", () => {
    const result = runCli(["debug", "gpu-info", "--json"], fakeToolsEnv(null));
    expect(result.code).toBe(3);
    expect(result.json().error.code).toBe("GPU_DETECTION_FAILED");
  });

  it("recipe-info explains each recipe of the model", () => {
    const result = runCli([
      "debug",
      "recipe-info",
      "Qwen/Qwen3-32B",
      "--gpu",
      "H100",
      "--gpu-count",
      "2",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.recipes[0].status).toBe("selected");
    expect(data.recipes.some((r: { status: string }) => r.status === "rejected")).toBe(true);
    const human = runCli(["debug", "recipe-info", "Qwen/Qwen3-32B", "--gpu", "H100", "--gpu-count", "2"]);
    expect(human.stdout).toMatch(/: selected/);
    expect(human.stdout).toMatch(/rejected \(gpu-not-listed\)/);
  });

  it("exits 2 on a missing or unknown debug command, naming the valid ones", () => {
    const bare = runCli(["debug"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("debug needs a command: gpu-info or recipe-info");
    const unknown = runCli(["debug", "nvlink", "--json"]);
    expect(unknown.code).toBe(2);
    expect(unknown.json().error.message).toContain("must be one of gpu-info, recipe-info");
  });

  it("recipe-info exits 2 on a bad --gpu-count", () => {
    const result = runCli(["debug", "recipe-info", "Qwen/Qwen3-32B", "--gpu-count", "zero"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--gpu-count must be a positive integer");
  });
});
