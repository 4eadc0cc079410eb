import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { matchGpu } from "../../../src/core/gpu/match-gpu.js";
import { describeModel } from "../../../src/core/model/describe-model.js";
import { buildPlan, type PlanInputs } from "../../../src/core/plan/build-plan.js";
import type { UserEngineSettings } from "../../../src/core/plan/types.js";
import { loadEngineCatalog } from "../../../src/runtime/catalog/engine-catalog.js";
import { loadGpuCatalog } from "../../../src/runtime/catalog/gpu-catalog.js";
import { loadModelCatalog } from "../../../src/runtime/catalog/model-catalog.js";

const [models, gpus, engines] = await Promise.all([
  loadModelCatalog(),
  loadGpuCatalog(),
  loadEngineCatalog(),
]);

function inputs(
  modelId: string,
  gpuName: string,
  count: number,
  user: UserEngineSettings = {},
  extra: Partial<PlanInputs> = {},
): PlanInputs {
  const entry = models.find(modelId);
  if (!entry) throw new Error(`no catalog model ${modelId}`);
  return {
    modelId: entry.id,
    model: describeModel({ config: entry.config, label: entry.id }),
    gpu: matchGpu(gpuName, gpus).entry,
    gpuCount: count,
    nodes: 1,
    gpusPerNode: count,
    engine: "vllm",
    engineVersion: null,
    engineSpecs: engines,
    user,
    workload: { promptTokens: 1024, genTokens: 256, concurrency: 1, batchingMode: "balanced" },
    ...extra,
  };
}

function expectInvalid(run: () => unknown, pattern: RegExp) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).exitCode).toBe(2);
    expect((error as ServepilotError).message).toMatch(pattern);
    return;
  }
  throw new Error("expected an INVALID_ARGUMENT error");
}

describe("buildPlan", () => {
  it("fills every field of the plan contract", () => {
    const plan = buildPlan(inputs("meta-llama/Llama-3.1-8B-Instruct", "H100", 1, { maxModelLen: 16000 }));
    expect(plan.fits).toBe(true);
    expect(plan.config).toMatchObject({
      engine: "vllm",
      tensorParallelSize: 1,
      maxModelLen: 16000,
      blockSize: 16,
      enforceEager: false,
    });
    for (const value of Object.values(plan.memory.perGpu)) expect(typeof value).toBe("number");
    expect(plan.kvCache.tokens).toBeGreaterThan(400_000);
    expect(plan.performance.outputTokensPerSecond.expected).toBeGreaterThan(0);
    expect(plan.artifacts.serveArgv.slice(0, 3)).toEqual([
      "vllm",
      "serve",
      "meta-llama/Llama-3.1-8B-Instruct",
    ]);
  });

  it("honours the user's TP even when another would be better, and says so in the fixes", () => {
    const plan = buildPlan(inputs("meta-llama/Llama-3.3-70B-Instruct", "H100", 4, { tensorParallelSize: 1 }));
    expect(plan.config.tensorParallelSize).toBe(1);
    expect(plan.fits).toBe(false);
    expect(plan.reasons.some((r) => /^fix: --tensor-parallel-size \d fits/.test(r))).toBe(true);
  });

  it("chooses the smallest tensor-parallel size that serves the workload when TP is open", () => {
    // TP=2 leaves ~1.3 GiB of KV: not one 131,072-token request; TP=4 holds 3
    const plan = buildPlan(inputs("meta-llama/Llama-3.3-70B-Instruct", "H100", 8));
    expect(plan.fits).toBe(true);
    expect(plan.config.tensorParallelSize).toBe(4);
    expect(plan.config.replicas).toBe(2);
    const short = buildPlan(inputs("meta-llama/Llama-3.3-70B-Instruct", "H100", 8, { maxModelLen: 4096 }));
    expect(short.config.tensorParallelSize).toBe(2);
    expect(plan.recommendations.map((r) => r.setting)).toContain("tensorParallelSize");
  });

  it("verifies each fix by planning it again", () => {
    // 4.48 GiB of KV: 20,000 tokens need 4.9 GiB in bf16, 2.4 GiB in fp8
    const plan = buildPlan(
      inputs(
        "Qwen/Qwen3-32B",
        "H100",
        1,
        { maxModelLen: 20000, gpuMemoryUtilization: 0.9 },
        { engineVersion: "0.11.0" },
      ),
    );
    expect(plan.fits).toBe(false);
    const fix = plan.reasons.find((r) => r.startsWith("fix: --max-model-len "));
    const len = Number(/--max-model-len (\d+)/.exec(fix ?? "")?.[1]);
    expect(len).toBeGreaterThan(0);
    expect(
      buildPlan(
        inputs(
          "Qwen/Qwen3-32B",
          "H100",
          1,
          { maxModelLen: len, gpuMemoryUtilization: 0.9 },
          { engineVersion: "0.11.0" },
        ),
      ).fits,
    ).toBe(true);
    expect(
      buildPlan(
        inputs(
          "Qwen/Qwen3-32B",
          "H100",
          1,
          { maxModelLen: len + 1024, gpuMemoryUtilization: 0.9 },
          { engineVersion: "0.11.0" },
        ),
      ).fits,
    ).toBe(false);
    const kvFix = plan.reasons.find((r) => r.startsWith("fix: --kv-cache-dtype fp8"));
    expect(kvFix).toBeDefined();
    expect(
      buildPlan(
        inputs(
          "Qwen/Qwen3-32B",
          "H100",
          1,
          { maxModelLen: 20000, gpuMemoryUtilization: 0.9, kvCacheDtype: "fp8" },
          { engineVersion: "0.11.0" },
        ),
      ).fits,
    ).toBe(true);
  });

  it("picks the largest context that fits when the model maximum does not (and the user set none)", () => {
    const plan = buildPlan(
      inputs("Qwen/Qwen3-32B", "H100", 1, { gpuMemoryUtilization: 0.9 }, { engineVersion: "0.11.0" }),
    );
    expect(plan.fits).toBe(true);
    expect(plan.config.maxModelLen).toBeLessThan(40960);
    expect(plan.recommendations.find((r) => r.setting === "maxModelLen")?.why).toMatch(/vLLM estimates/);
  });

  it("leaves room for memory other processes use on detected GPUs", () => {
    const plan = buildPlan(
      inputs(
        "meta-llama/Llama-3.1-8B-Instruct",
        "H100",
        1,
        { maxModelLen: 8192 },
        { freeBytes: 60 * 2 ** 30, engineVersion: "0.11.0" },
      ),
    );
    expect(plan.fits).toBe(true);
    expect(plan.config.gpuMemoryUtilization).toBeLessThanOrEqual(60 / 79.19);
    expect(plan.recommendations.find((r) => r.setting === "gpuMemoryUtilization")?.why).toMatch(
      /already in use/,
    );
  });

  it("draws the context / concurrency trade-off up to the model maximum", () => {
    const plan = buildPlan(inputs("meta-llama/Llama-3.1-8B-Instruct", "L4", 1));
    const lens = plan.tradeoff.map((t) => t.maxModelLen);
    expect(lens[0]).toBe(1024);
    expect(lens.at(-1)).toBe(131072);
    for (let i = 1; i < plan.tradeoff.length; i++) {
      expect(plan.tradeoff[i]?.maxConcurrency).toBeLessThanOrEqual(
        plan.tradeoff[i - 1]?.maxConcurrency as number,
      );
    }
  });

  it("emits only engine-valid flag values", () => {
    const plan = buildPlan(
      inputs("meta-llama/Llama-3.1-8B-Instruct", "H100", 1, {
        dtype: "float16",
        kvCacheDtype: "fp8_e4m3",
        maxModelLen: 8192,
      }),
    );
    const argv = plan.artifacts.serveArgv;
    expect(argv[argv.indexOf("--dtype") + 1]).toBe("float16");
    expect(argv[argv.indexOf("--kv-cache-dtype") + 1]).toBe("fp8_e4m3");
    expect(argv).not.toContain("fp16");
  });

  it("refuses contradictory settings with the option and the valid values", () => {
    expectInvalid(
      () => buildPlan(inputs("meta-llama/Llama-3.1-8B-Instruct", "H100", 2, { tensorParallelSize: 4 })),
      /needs 4 GPUs, but 2 are given/,
    );
    expectInvalid(
      () => buildPlan(inputs("meta-llama/Llama-3.1-8B-Instruct", "H100", 4, { tensorParallelSize: 3 })),
      /--tensor-parallel-size 3 does not divide the model's 32 attention heads .*valid sizes: 1, 2, 4, 8/,
    );
    expectInvalid(
      () => buildPlan(inputs("meta-llama/Llama-3.1-8B-Instruct", "H100", 1, { gpuMemoryUtilization: 1.5 })),
      /--gpu-memory-utilization must be in \(0, 1\]/,
    );
  });

  it("plans SGLang and llama.cpp with their own defaults and commands", () => {
    const sglang = buildPlan(inputs("meta-llama/Llama-3.1-8B-Instruct", "H100", 1, {}, { engine: "sglang" }));
    expect(sglang.artifacts.serveArgv.slice(0, 3)).toEqual(["python3", "-m", "sglang.launch_server"]);
    expect(sglang.config.gpuMemoryUtilization).toBeLessThan(0.9);
    const llama = buildPlan(
      inputs("Qwen/Qwen3-8B", "RTX 4090", 1, { maxModelLen: 16384 }, { engine: "llamacpp" }),
    );
    expect(llama.artifacts.serveArgv[0]).toBe("llama-server");
    expect(llama.warnings.some((w) => w.includes("GGUF"))).toBe(true);
  });
});
