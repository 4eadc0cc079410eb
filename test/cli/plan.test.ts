import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";

const CONTRACT = {
  memory: [
    "totalGiB",
    "requestedGiB",
    "weightsGiB",
    "activationGiB",
    "nonTorchGiB",
    "cudaGraphGiB",
    "kvCacheGiB",
  ],
  config: [
    "engine",
    "engineVersion",
    "tensorParallelSize",
    "pipelineParallelSize",
    "maxModelLen",
    "gpuMemoryUtilization",
    "dtype",
    "quantization",
    "kvCacheDtype",
    "maxNumSeqs",
    "maxNumBatchedTokens",
    "blockSize",
    "enforceEager",
  ],
};

describe("servepilot plan", () => {
  it("prints the DESIGN.md plan contract with every field filled", () => {
    const result = runCli([
      "plan",
      "meta-llama/Llama-3.1-8B-Instruct",
      "--gpu",
      "H100",
      "--max-model-len",
      "16000",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.fits).toBe(true);
    for (const key of CONTRACT.memory) expect(typeof data.memory.perGpu[key], key).toBe("number");
    for (const key of CONTRACT.config) expect(data.config, key).toHaveProperty(key);
    expect(data.model.params.total).toBeGreaterThan(8e9);
    expect(data.hardware).toMatchObject({ gpuId: "h100-sxm", count: 1 });
    expect(data.kvCache).toMatchObject({ bytesPerTokenPerGpu: 131072 });
    for (const metric of ["ttftMs", "tpotMs", "outputTokensPerSecond"]) {
      expect(Object.keys(data.performance[metric])).toEqual(["low", "expected", "high"]);
    }
    expect(data.artifacts.serveCommand).toBe(
      "vllm serve meta-llama/Llama-3.1-8B-Instruct --max-model-len 16000 --gpu-memory-utilization 0.92",
    );
  });

  it("returns fits: false with exit 0 and verified fixes when the model does not fit", () => {
    const result = runCli(["plan", "meta-llama/Llama-3.3-70B-Instruct", "--gpu", "A100-80G", "--json"]);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.fits).toBe(false);
    expect(data.reasons.some((r: string) => r.startsWith("fix: --tensor-parallel-size"))).toBe(true);
  });

  it("prints a human report with the memory bar, the breakdown and the serve command", () => {
    const result = runCli(["plan", "Qwen/Qwen3-8B", "--gpu", "L40S", "--concurrency", "32", "--explain"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^FITS {2}Qwen\/Qwen3-8B on 1 x NVIDIA L40S/);
    expect(result.stdout).toMatch(/\[W+A+G*K+\.*\] 44\.\d\d GiB/);
    expect(result.stdout).toContain("max_model_len  max concurrency  fits");
    expect(result.stdout).toMatch(/serve: vllm serve Qwen\/Qwen3-8B/);
  });

  it("accepts the engine's spellings and short aliases, emitting the engine's", () => {
    const data = runCli([
      "plan",
      "qwen3-8b",
      "--gpu",
      "H100",
      "--dtype",
      "bf16",
      "--kv-cache-dtype",
      "fp8_e4m3fn",
      "--json",
    ]).json().data;
    expect(data.config.dtype).toBe("bfloat16");
    expect(data.artifacts.serveArgv).toContain("fp8_e4m3");
  });

  it("refuses bad options naming the option and the valid values (exit 2)", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--gpu", "H100", "--gpus", "4", "--tp", "3"], /--tensor-parallel-size 3 does not divide/],
      [["--gpu", "H100", "--gpus", "2", "--tp", "4"], /needs 4 GPUs, but 2 are given/],
      [
        ["--gpu", "H100", "--gpu-memory-utilization", "1.2"],
        /--gpu-memory-utilization must be a number in \(0, 1\]/,
      ],
      [["--gpu", "H100", "--dtype", "fp12"], /--dtype must be one of/],
      [["--gpu", "H100", "--quantization", "int8"], /--quantization must be one of none, fp8, awq/],
      [["--gpu", "H100", "--quantization", "awq"], /--quantization awq needs a awq checkpoint/],
      [["--gpu", "T4", "--quantization", "fp8"], /has no FP8 support/],
      [["--gpu", "H300"], /H300/],
      [["--gpu", "H100", "--max-model-len", "-5"], /--max-model-len must be a positive integer/],
      [["--gpu-memory", "lots"], /--gpu-memory/],
    ];
    for (const [flags, pattern] of cases) {
      const result = runCli(["plan", "Qwen/Qwen3-8B", ...flags, "--json"]);
      expect(result.code, flags.join(" ")).toBe(2);
      expect(result.json().error.message, flags.join(" ")).toMatch(pattern);
    }
  });

  it("applies the seed planner's policy options: headroom, overhead, interconnect, expected size", () => {
    const base = runCli([
      "plan",
      "Qwen/Qwen3-8B",
      "--gpu",
      "RTX 4090",
      "--max-model-len",
      "8192",
      "--json",
    ]).json().data;
    const data = runCli([
      "plan",
      "Qwen/Qwen3-8B",
      "--gpu",
      "RTX 4090",
      "--max-model-len",
      "8192",
      "--headroom-gb",
      "4",
      "--overhead-gb",
      "1",
      "--params-b",
      "7",
      "--json",
    ]).json().data;
    // 23.64 GiB = 25.38 GB; 4 GB left unused: floor((25.38 - 4) / 25.38, 2)
    expect(data.config.gpuMemoryUtilization).toBe(0.84);
    expect(data.memory.perGpu.nonTorchGiB - base.memory.perGpu.nonTorchGiB).toBeCloseTo(1e9 / 2 ** 30, 1);
    expect(data.warnings).toContain(
      "--params-b 7: the model's config counts 8.19B parameters; the plan uses the config's count",
    );
    const both = runCli([
      "plan",
      "Qwen/Qwen3-8B",
      "--gpu",
      "H100",
      "--headroom-gb",
      "4",
      "--gpu-memory-utilization",
      "0.8",
      "--json",
    ]);
    expect(both.code).toBe(2);
  });

  it("plans a custom GPU by memory size", () => {
    const data = runCli(["plan", "Qwen/Qwen3-8B", "--gpu-memory", "48GiB", "--json"]).json().data;
    expect(data.hardware.memoryPerGpuGiB).toBe(48);
  });

  it("reads a profile, lets flags override it, and refuses unknown keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "sp-profile-"));
    const file = join(dir, "profile.yaml");
    writeFileSync(
      file,
      "profileVersion: 1\nmodel: { id: Qwen/Qwen3-8B, maxModelLen: 8192 }\nhardware: { gpu: H100 }\nworkload: { concurrency: 8 }\n",
    );
    const data = runCli(["plan", "--profile", file, "--max-model-len", "4096", "--json"]).json().data;
    expect(data.model.id).toBe("Qwen/Qwen3-8B");
    expect(data.config.maxModelLen).toBe(4096);
    writeFileSync(
      file,
      "profileVersion: 1\nmodel: { id: Qwen/Qwen3-8B }\nhardware: { gpu: H100, vram: 80 }\n",
    );
    const bad = runCli(["plan", "--profile", file, "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.json().error.message).toMatch(/profile\.yaml: hardware: .*"vram"/);
  });

  it("needs a GPU when none is detected (exit 3 with a hint)", () => {
    const result = runCli(["plan", "Qwen/Qwen3-8B", "--json"]);
    expect(result.code).toBe(3);
    expect(result.json().error.hint).toMatch(/--gpu/);
  });
});

describe("servepilot fit", () => {
  it("ranks GPU options by fewest GPUs, then most KV headroom", () => {
    const result = runCli(["fit", "meta-llama/Llama-3.3-70B-Instruct", "--max-model-len", "32768", "--json"]);
    expect(result.code).toBe(0);
    const { options, checked } = result.json().data;
    expect(checked).toBeGreaterThan(40);
    for (let i = 1; i < options.length; i++)
      expect(options[i].count).toBeGreaterThanOrEqual(options[i - 1].count);
    const h100 = options.find(
      (o: { gpuId: string; precision: string }) => o.gpuId === "h100-sxm" && o.precision === "native",
    );
    // bf16 at TP=2 leaves 1.3 GiB of KV, less than one 32k request (5 GiB): 4 GPUs; fp8 weights fit on 2
    expect(h100.count).toBe(4);
    const fp8 = options.find(
      (o: { gpuId: string; precision: string }) => o.gpuId === "h100-sxm" && o.precision === "fp8",
    );
    expect(fp8.count).toBe(2);
    expect(
      options.some(
        (o: { gpuId: string; precision: string }) => o.gpuId === "a100-sxm4-80gb" && o.precision !== "native",
      ),
    ).toBe(false);
  });
});
