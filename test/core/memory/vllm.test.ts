import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { selectByVersion } from "../../../src/core/engines/version.js";
import { type VllmSpec, VllmSpecSchema } from "../../../src/core/engines/vllm-spec.js";
import type { GpuMemoryTarget } from "../../../src/core/memory/types.js";
import { planVllmMemory, vllmKvLayout } from "../../../src/core/memory/vllm.js";
import { resolveVllmArgs, type VllmUserArgs } from "../../../src/core/memory/vllm-args.js";
import { paddedVocab } from "../../../src/core/memory/vllm-weights.js";
import { parseConfig } from "../../../src/core/model/parse-config.js";

const SPECS: VllmSpec[] = (
  parse(readFileSync(new URL("../../../data/engines/vllm.yaml", import.meta.url), "utf8")) as unknown[]
).map((entry) => VllmSpecSchema.parse(entry));
const GIB = 2 ** 30;
const H100: GpuMemoryTarget = {
  vendor: "nvidia",
  totalBytes: 79.18 * GIB,
  freeBytes: null,
  computeCapability: "9.0",
  gfxTarget: null,
  fp8: true,
};

const LLAMA_8B = parseConfig({
  model_type: "llama",
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  torch_dtype: "bfloat16",
}).architecture;

function planFor(
  arch = LLAMA_8B,
  user: VllmUserArgs = {},
  version = "0.11.0",
  gpu = H100,
  gpuName = "NVIDIA H100 80GB HBM3",
) {
  const spec = selectByVersion(SPECS, version, "vLLM");
  const args = resolveVllmArgs(user, { arch, gpu, gpuName, spec });
  return { plan: planVllmMemory({ arch, gpu, args, spec, engineVersion: version }), args, spec };
}

describe("vLLM V1 memory model", () => {
  it("reproduces llm-d's Llama-3.1-8B H100 row: 79.18 x 0.9 - (weights + activation + non-torch)", () => {
    const { plan, args } = planFor(LLAMA_8B, { maxModelLen: 16000 });
    expect(args).toMatchObject({
      maxNumSeqs: 1024,
      maxNumBatchedTokens: 8192,
      blockSize: 16,
      gpuMemoryUtilization: 0.9,
    });
    // 8,030,261,248 params x 2 bytes: vocab 128256 is already a multiple of 64
    expect(plan.perRank.weights).toBe(8_030_261_248 * 2);
    // 38.3 B x 1024 rows x 128256 vocab + 2 B x 8192 tokens x 4096 hidden
    expect(plan.perRank.activation).toBeCloseTo(38.3 * 1024 * 128256 + 2 * 8192 * 4096, 0);
    const kv = 79.18 * 0.9 * GIB - plan.perRank.weights - plan.perRank.activation - 0.13 * GIB;
    expect(plan.perRank.kvCache).toBeCloseTo(kv, 0);
    expect(plan.perRank.kvCache / GIB).toBeCloseTo(51.38, 1); // what vLLM printed
    // page = 16 tokens x 8 KV heads x (128 + 128) x 2 bytes; 32 layers per block
    const blocks = Math.floor(kv / (16 * 8 * 256 * 2) / 32);
    expect(plan.kv).toMatchObject({ numBlocks: blocks, tokens: blocks * 16, bytesPerTokenPerGpu: 131072 });
    expect(plan.kv.maxConcurrency).toBeCloseTo(blocks / Math.ceil(16000 / 16), 6);
  });

  it("replicates KV heads when TP exceeds them and never splits MLA's latent", () => {
    const tp16 = vllmKvLayout(
      LLAMA_8B,
      planFor(LLAMA_8B, { tensorParallelSize: 16 }).args,
      SPECS[0] as VllmSpec,
    );
    expect(tp16.bytesPerToken).toBe(32 * 1 * 256 * 2); // one replicated KV head per rank
    const dsv3 = parseConfig({ model_type: "deepseek_v3" }).architecture;
    for (const tp of [1, 8]) {
      const { plan, args } = planFor(dsv3, { tensorParallelSize: tp, maxModelLen: 4096 }, "0.11.0", {
        ...H100,
        totalBytes: 1000 * GIB,
      });
      expect(args.blockSize).toBe(64); // FlashMLA on Hopper
      expect(plan.kv.bytesPerTokenPerGpu).toBe(61 * 576 * 2);
    }
  });

  it("halves the page with an fp8 KV cache", () => {
    const auto = planFor(LLAMA_8B, { maxModelLen: 16000 }).plan;
    const fp8 = planFor(LLAMA_8B, { maxModelLen: 16000, kvCacheDtype: "fp8" }).plan;
    expect(fp8.kv.bytesPerTokenPerGpu).toBe(auto.kv.bytesPerTokenPerGpu / 2);
    expect(fp8.kv.tokens).toBeGreaterThanOrEqual(2 * auto.kv.tokens - 16);
  });

  it("groups gpt-oss's sliding and full layers (2 groups of 12) and caps sliding requests at the window", () => {
    const arch = parseConfig({
      model_type: "gpt_oss",
      num_hidden_layers: 24,
      num_local_experts: 32,
      num_experts_per_tok: 4,
    }).architecture;
    const { args, spec } = planFor(arch, { maxModelLen: 131072 });
    const layout = vllmKvLayout(arch, args, spec);
    expect(layout.groupSize).toBe(12);
    expect(layout.groups.map((g) => g.kind).sort()).toEqual(["full", "sliding"]);
    const sliding = layout.groups.find((g) => g.kind === "sliding");
    // ceil(min(128 - 1 + 8192, 131072) / 16) + 1
    expect(sliding?.blocksFor(131072)).toBe(Math.ceil((127 + 8192) / 16) + 1);
  });

  it("pads Gemma 3's 52 sliding / 10 full layers into 7 groups of 10", () => {
    const arch = parseConfig({
      model_type: "gemma3",
      text_config: {
        model_type: "gemma3_text",
        hidden_size: 5376,
        intermediate_size: 21504,
        num_hidden_layers: 62,
        num_attention_heads: 32,
        num_key_value_heads: 16,
        head_dim: 128,
        sliding_window: 1024,
      },
    }).architecture;
    const { args, spec } = planFor(arch, { maxModelLen: 32768 });
    const layout = vllmKvLayout(arch, args, spec);
    expect(layout.groupSize).toBe(10);
    expect(layout.groups).toHaveLength(7);
    expect(layout.paddingLayers).toBe(8);
  });

  it("raises the attention block for Qwen3-Next so a page holds a linear-attention state", () => {
    const arch = parseConfig({ model_type: "qwen3_next", num_hidden_layers: 48 }).architecture;
    const { plan } = planFor(arch, { maxModelLen: 32768 });
    expect(plan.kv.blockSize).toBeGreaterThan(16);
    expect(plan.kv.blockSize % 16).toBe(0);
  });

  it("raises vLLM's startup errors with their numbers", () => {
    const noKv = planFor(LLAMA_8B, { gpuMemoryUtilization: 0.2 }).plan;
    expect(noKv.failures.map((f) => f.kind)).toContain("no-kv-memory");
    const tooLong = planFor(LLAMA_8B, { gpuMemoryUtilization: 0.3 }).plan;
    const failure = tooLong.failures.find((f) => f.kind === "max-model-len-too-large");
    expect(failure?.message).toMatch(/estimated maximum model length is \d+/);
    const estimated = failure?.estimatedMaxModelLen as number;
    expect(planFor(LLAMA_8B, { gpuMemoryUtilization: 0.3, maxModelLen: estimated }).plan.failures).toEqual(
      [],
    );
    expect(
      planFor(LLAMA_8B, { gpuMemoryUtilization: 0.3, maxModelLen: estimated + 16 }).plan.failures,
    ).toHaveLength(1);
    const busy = planFor(LLAMA_8B, {}, "0.11.0", { ...H100, freeBytes: 60 * GIB }).plan;
    expect(busy.failures[0]?.message).toMatch(
      /^Free memory on device \(60\.00\/79\.18 GiB\) on startup is less than desired GPU memory utilization \(0\.9, 71\.26 GiB\)/,
    );
  });

  it("follows release changes: defaults, CUDA-graph accounting, token formula", () => {
    const v08 = planFor(LLAMA_8B, { maxModelLen: 16000 }, "0.8.0", H100, "NVIDIA A100-SXM4-80GB");
    expect(v08.args.maxNumBatchedTokens).toBe(2048); // large defaults by H100/H200 name only
    expect(v08.plan.kv.tokens).toBe(v08.plan.kv.numBlocks * 16);
    const v09 = planFor(LLAMA_8B, {}, "0.9.0", H100, "NVIDIA A100-SXM4-80GB");
    expect(v09.args.maxNumSeqs).toBe(256); // A100 excluded from the large defaults
    const v21 = planFor(LLAMA_8B, { maxModelLen: 16000 }, "0.21.0");
    expect(v21.args.gpuMemoryUtilization).toBe(0.92);
    expect(v21.plan.perRank.cudaGraph).toBeGreaterThan(0);
    expect(v21.plan.kv.tokens).toBe(Math.floor(v21.plan.kv.maxConcurrency * 16000));
    expect(planFor(LLAMA_8B, { enforceEager: true }, "0.21.0").plan.perRank.cudaGraph).toBe(0);
  });

  it("pads the vocabulary to a multiple of 64 and shards it by TP", () => {
    expect(paddedVocab(32001)).toBe(32064);
    expect(paddedVocab(128256)).toBe(128256);
    const tp2 = planFor(LLAMA_8B, { tensorParallelSize: 2 }).plan;
    const tp1 = planFor(LLAMA_8B).plan;
    // everything but norms (and the KV projections, 8 heads split in two) halves
    expect(tp2.perRank.weights / tp1.perRank.weights).toBeCloseTo(0.5, 2);
  });

  it("counts online fp8 weights at one byte (embeddings and lm_head stay bf16)", () => {
    const fp8 = planFor(LLAMA_8B, { quantization: "fp8" }).plan;
    const embeddings = 2 * 128256 * 4096 * 2;
    const linear = 8_030_261_248 - 2 * 128256 * 4096 - 65 * 4096;
    expect(fp8.perRank.weights).toBeCloseTo(embeddings + linear + 65 * 4096 * 2, -3);
  });

  it("refuses an engine release older than the data", () => {
    expect(() => selectByVersion(SPECS, "0.6.0", "vLLM")).toThrow(
      /older than the oldest vLLM release servepilot models \(0\.8\.0\)/,
    );
  });
});
