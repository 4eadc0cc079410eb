import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import { runCli } from "../helpers/run-cli.js";

const H100_RECIPE = `- id: qwen3-8b-h100-bf16-throughput
  model: Qwen/Qwen3-8B
  engine: vllm
  engineVersion: 0.11.0
  hardware: [h100-sxm]
  gpuCount: 1
  precision: bf16
  metric: throughput
  engineArgs:
    maxModelLen: 4096
  source: https://example.com/mine
`;

describe("servepilot show-config", () => {
  it("returns a fitting recipe for Qwen3-8B on one H100", () => {
    const result = runCli(["show-config", "Qwen/Qwen3-8B", "--gpu", "H100", "--gpu-count", "1", "--json"]);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.selected).toBe("qwen3-8b-h100-bf16-throughput");
    expect(data.candidates[0]).toMatchObject({ fits: true, engine: "vllm", gpuCount: 1, precision: "bf16" });
    expect(data.candidates[0].kvCache.tokens).toBeGreaterThan(0);
    expect(data.candidates[0].serveCommand).toContain("vllm serve Qwen/Qwen3-8B");
    expect(data.hardware).toMatchObject({ gpuId: "h100-sxm", count: 1, detected: false });
  });

  it("prints the same envelope with --format json", () => {
    const result = runCli([
      "show-config",
      "Qwen/Qwen3-8B",
      "--gpu",
      "H100",
      "--gpu-count",
      "1",
      "--format",
      "json",
    ]);
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      success: true,
      data: { selected: "qwen3-8b-h100-bf16-throughput" },
    });
  });

  it("prints a table naming the chosen recipe and the serve command", () => {
    const result = runCli(["show-config", "Qwen/Qwen3-8B", "--gpu", "H100", "--gpu-count", "1"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("* qwen3-8b-h100-bf16-throughput");
    expect(result.stdout).toContain("chosen: qwen3-8b-h100-bf16-throughput");
    expect(result.stdout).toMatch(/vllm serve Qwen\/Qwen3-8B/);
    expect(result.stdout).toContain("not used:");
  });

  it("returns a generated configuration for a model without recipes", () => {
    const result = runCli(["show-config", "google/gemma-2-2b-it", "--gpu", "L40S", "--json"]);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.candidates).toEqual([]);
    expect(data.selected).toBe("generated");
    expect(data.generated).toMatchObject({ generated: true, fits: true, engine: "vllm" });
  });

  it("exits 2 on a bad --format, naming the option and its values", () => {
    const result = runCli(["show-config", "Qwen/Qwen3-8B", "--gpu", "H100", "--format", "yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--format must be one of table, json");
  });

  it("exits 2 on an unknown --precision, --engine or --metric, listing the valid values", () => {
    const precision = runCli([
      "show-config",
      "Qwen/Qwen3-8B",
      "--gpu",
      "H100",
      "--precision",
      "fp4",
      "--json",
    ]);
    expect(precision.code).toBe(2);
    expect(precision.json().error.message).toBe(
      '--precision must be one of bf16, fp16, fp8, int8, int4, mxfp4; got "fp4"',
    );
    const engine = runCli([
      "show-config",
      "Qwen/Qwen3-8B",
      "--gpu",
      "H100",
      "--engine",
      "tgi",
      "--format",
      "json",
    ]);
    expect(engine.code).toBe(2);
    expect(engine.json().error.message).toContain("--engine must be one of vllm, sglang, llamacpp");
    const metric = runCli(["show-config", "Qwen/Qwen3-8B", "--gpu", "H100", "--metric", "speed"]);
    expect(metric.code).toBe(2);
    expect(metric.stderr).toContain("--metric must be one of latency, throughput");
  });

  it("uses a recipe in --recipes-dir over the built-in with the same id", () => {
    const dir = mkdtempSync(join(tmpdir(), "sp-recipes-"));
    writeFileSync(join(dir, "mine.yaml"), H100_RECIPE);
    const result = runCli([
      "show-config",
      "Qwen/Qwen3-8B",
      "--gpu",
      "H100",
      "--gpu-count",
      "1",
      "--recipes-dir",
      dir,
      "--json",
    ]);
    expect(result.code).toBe(0);
    const best = result.json().data.candidates[0];
    expect(best.id).toBe("qwen3-8b-h100-bf16-throughput");
    expect(best.origin).toEqual({ kind: "user", file: join(dir, "mine.yaml") });
    expect(best.maxModelLen).toBe(4096);
  });

  it("exits 2 naming file:line of a broken recipe in <data-dir>/recipes/", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-data-"));
    mkdirSync(join(dataDir, "recipes"));
    const file = join(dataDir, "recipes", "broken.yaml");
    writeFileSync(file, H100_RECIPE.replace("gpuCount: 1", "gpuCount: one"));
    const result = runCli(["--data-dir", dataDir, "show-config", "Qwen/Qwen3-8B", "--gpu", "H100", "--json"]);
    expect(result.code).toBe(2);
    const error = result.json().error;
    expect(error.code).toBe("INVALID_DATA_FILE");
    expect(error.message).toContain(`${file}:6:`);
    expect(error.message).toContain("field gpuCount");
  });

  it("selects for the detected GPUs when none is named", () => {
    const result = runCli(
      ["show-config", "Qwen/Qwen3-32B", "--json"],
      fakeToolsEnv("h100-sxm-8x-nvlink.json"),
    );
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.hardware).toMatchObject({ gpuId: "h100-sxm", detected: true, detectedCount: 8 });
    expect(data.candidates[0].hardware).toContain("h100-sxm");
  });

  it("exits 3 when no GPU is named and none is detected", () => {
    const result = runCli(["show-config", "Qwen/Qwen3-8B", "--json"], fakeToolsEnv(null));
    expect(result.code).toBe(3);
    expect(result.json().error.code).toBe("GPU_DETECTION_FAILED");
  });
});
