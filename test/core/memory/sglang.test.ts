import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type SglangSpec, SglangSpecSchema } from "../../../src/core/engines/sglang-spec.js";
import { ServepilotError } from "../../../src/core/errors.js";
import {
  defaultMemFractionStatic,
  estimateSglangWeightsPerRank,
  planSglangMemory,
  resolveSglangGpuDefaults,
  type SglangMemoryInput,
} from "../../../src/core/memory/sglang.js";
import type { GpuMemoryTarget, ResolvedEngineArgs } from "../../../src/core/memory/types.js";
import type { Architecture } from "../../../src/core/model/architecture.js";
import { parseConfig } from "../../../src/core/model/parse-config.js";

const GiB = 2 ** 30;
const root = new URL("../../../", import.meta.url);
const rawSpecs: unknown = parse(readFileSync(new URL("data/engines/sglang.yaml", root), "utf8"));
const specs = SglangSpecSchema.array().parse(rawSpecs);
function spec(id: string): SglangSpec {
  const found = specs.find((s) => s.id === id);
  if (!found) throw new Error(`no spec ${id}`);
  return found;
}

/** Architectures from the built-in model catalog (verbatim config.json copies). */
function arch(file: string, id: string): Architecture {
  const entries = parse(readFileSync(new URL(`data/models/${file}.yaml`, root), "utf8")) as Array<{
    id: string;
    config: unknown;
  }>;
  const entry = entries.find((e) => e.id === id);
  if (!entry) throw new Error(`no model ${id}`);
  return parseConfig(entry.config).architecture;
}

const LLAMA_8B = arch("llama-3", "meta-llama/Llama-3.1-8B-Instruct");
const LLAMA_8B_BF16 = 8_030_261_248 * 2; // published parameter count x 2 bytes
// Catalog runtime totals (torch total_memory): H100 SXM 79.19 GiB, H200 139.8 GiB, RTX 4090 23.64 GiB.
const H100: GpuMemoryTarget = {
  vendor: "nvidia",
  totalBytes: 79.19 * GiB,
  freeBytes: null,
  computeCapability: "9.0",
  gfxTarget: null,
  fp8: true,
};
const H200: GpuMemoryTarget = { ...H100, totalBytes: 139.8 * GiB };
const RTX_4090: GpuMemoryTarget = { ...H100, totalBytes: 23.64 * GiB, computeCapability: "8.9" };
// nvidia-smi memory.total (what SGLang reads), from the GPU catalog's smiTotalMiB.
const SMI_GIB = {
  h100: 81559 / 1024,
  h200: 143771 / 1024,
  rtx4090: 24564 / 1024,
  mi300x: 196592 / 1024,
  l40s: 46068 / 1024,
};

function args(overrides: Partial<ResolvedEngineArgs> = {}): ResolvedEngineArgs {
  return {
    tensorParallelSize: 1,
    pipelineParallelSize: 1,
    maxModelLen: 131072,
    gpuMemoryUtilization: 0.835,
    dtype: "bfloat16",
    quantization: null,
    kvCacheDtype: "auto",
    maxNumSeqs: 2048,
    maxNumBatchedTokens: 8192,
    blockSize: 1,
    enforceEager: false,
    ...overrides,
  };
}

function plan(overrides: Partial<SglangMemoryInput> & { args?: ResolvedEngineArgs } = {}) {
  return planSglangMemory({
    arch: LLAMA_8B,
    weightBytesTotal: LLAMA_8B_BF16,
    gpu: H100,
    args: args(),
    spec: spec("sglang-0.5.3"),
    ...overrides,
  });
}

function expectInvalid(run: () => unknown, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("INVALID_ARGUMENT");
    expect((error as ServepilotError).message).toMatch(pattern);
    return;
  }
  throw new Error("expected a ServepilotError");
}

describe("data/engines/sglang.yaml", () => {
  it("validates against SglangSpecSchema with unique ids and sourced blocks", () => {
    expect(specs.map((s) => s.id)).toEqual(["sglang-0.4.7", "sglang-0.5.3", "sglang-0.5.9"]);
    for (const s of specs) {
      expect(s.engine).toBe("sglang");
      expect(s.source).toMatch(/^https:\/\//);
      expect(s.memFractionStatic.source).toMatch(/^https:\/\//);
    }
  });

  it("refuses tiers that are out of order or open before the end", () => {
    const entry = structuredClone((rawSpecs as Array<Record<string, unknown>>)[1]) as {
      memFractionStatic: { tiers: Array<{ belowGiB: number | null }> };
    };
    const tiers = entry.memFractionStatic.tiers;
    [tiers[0], tiers[1]] = [tiers[1] as { belowGiB: number | null }, tiers[0] as { belowGiB: number | null }];
    const swapped = SglangSpecSchema.safeParse(entry);
    expect(swapped.success).toBe(false);
    expect(JSON.stringify(swapped.error?.issues)).toMatch(/must be greater than 35/);
  });
});

describe("resolveSglangGpuDefaults / defaultMemFractionStatic", () => {
  it("reproduces the #10975 rule (sglang 0.5.3) on common GPUs", () => {
    const s = spec("sglang-0.5.3");
    // H100, TP1: 512 + max(8192, 2048) x 1.5 + 256 x 2 + 1 x 128 = 13440 MiB; (81559 - 13440) / 81559 = 0.8352
    expect(resolveSglangGpuDefaults(s, SMI_GIB.h100, 1)).toEqual({
      memFractionStatic: 0.835,
      chunkedPrefillSize: 8192,
      cudaGraphMaxBs: 256,
      reservedMiB: 13440,
    });
    // H100, TP8: max_bs 512 -> 512 + 12288 + 1024 + 8 x 128 = 14848; (81559 - 14848) / 81559 = 0.81795
    expect(defaultMemFractionStatic(s, SMI_GIB.h100, 8)).toBe(0.818);
    // RTX 4090 (24564 MiB, < 35 GiB): 2048 / 24 -> 512 + 3072 + 48 + 128 = 3760; no 10 GiB floor below 60 GiB
    expect(defaultMemFractionStatic(s, SMI_GIB.rtx4090, 1)).toBe(0.847);
    // L40S (46068 MiB, < 60 GiB): 4096 / 32 -> 512 + 6144 + 64 + 128 = 6848 -> 0.8514
    expect(defaultMemFractionStatic(s, SMI_GIB.l40s, 1)).toBe(0.851);
    // H200 (143771 MiB): same reserve as H100, 13440 -> 0.9065
    expect(defaultMemFractionStatic(s, SMI_GIB.h200, 1)).toBe(0.907);
    // MI300X (196592 MiB, >= 160 GiB): 16384 / 512 -> 512 + 24576 + 1024 + 128 = 26240 -> 0.8665
    expect(defaultMemFractionStatic(s, SMI_GIB.mi300x, 1)).toBe(0.867);
  });

  it("applies the 10 GiB floor above 60 GiB and honours user-set sizes", () => {
    // chunked 2048 on an H100: 512 + 3072 + 512 + 128 = 4224 < 10240 -> (81559 - 10240) / 81559 = 0.8744
    const d = resolveSglangGpuDefaults(spec("sglang-0.5.3"), SMI_GIB.h100, 1, { chunkedPrefillSize: 2048 });
    expect(d).toMatchObject({ memFractionStatic: 0.874, reservedMiB: 10240, chunkedPrefillSize: 2048 });
  });

  it("falls back to 0.88 when the GPU memory is unknown", () => {
    expect(defaultMemFractionStatic(spec("sglang-0.5.3"), null, 4)).toBe(0.88);
  });

  it("reproduces the #7054 tiers (sglang 0.4.7.post1 - 0.5.2)", () => {
    const s = spec("sglang-0.4.7");
    // H100: (9.5 + 0.5 x 1) GiB = 10240 MiB -> 0.8744; TP8: (9.5 + 4) GiB = 13824 -> 0.8305
    expect(defaultMemFractionStatic(s, SMI_GIB.h100, 1)).toBe(0.874);
    expect(defaultMemFractionStatic(s, SMI_GIB.h100, 8)).toBe(0.831);
    // RTX 4090: (2.8 + 0.1) GiB = 2969.6 MiB -> 0.8791; MI300X: 32 GiB -> 0.8333
    expect(defaultMemFractionStatic(s, SMI_GIB.rtx4090, 1)).toBe(0.879);
    expect(defaultMemFractionStatic(s, SMI_GIB.mi300x, 1)).toBe(0.833);
  });

  it("adds 8 MiB per piecewise prefill graph when they are on by default (sglang 0.5.9)", () => {
    const s = spec("sglang-0.5.9");
    // sizes up to 8192: 8 + 14 + 8 + 8 + 12 + 8 = 58 -> 464 MiB; 13440 + 464 = 13904 -> 0.8295
    expect(resolveSglangGpuDefaults(s, SMI_GIB.h100, 1).reservedMiB).toBe(13904);
    expect(defaultMemFractionStatic(s, SMI_GIB.h100, 1)).toBe(0.83);
    // MLA caps the prefill graphs at 2048 tokens: 8 + 14 + 8 + 8 + 4 = 42 sizes -> 336 MiB -> 0.8311
    expect(resolveSglangGpuDefaults(s, SMI_GIB.h100, 1, { mla: true }).reservedMiB).toBe(13776);
    expect(defaultMemFractionStatic(s, SMI_GIB.h100, 1, { mla: true })).toBe(0.831);
  });

  it("refuses an impossible TP size or GPU size", () => {
    expectInvalid(
      () => defaultMemFractionStatic(spec("sglang-0.5.3"), SMI_GIB.h100, 0),
      /--tp-size must be a positive integer/,
    );
    expectInvalid(() => defaultMemFractionStatic(spec("sglang-0.5.3"), -1, 1), /GPU memory/);
  });
});

describe("planSglangMemory", () => {
  it("sizes the token pool of Llama-3.1-8B bf16 on one H100 with SGLang 0.5.3 defaults", () => {
    // free before load = 79.19 - 0.76 (startup) = 78.43 GiB; static budget = 78.43 x 0.835 = 65.489 GiB
    // weights = 8,030,261,248 x 2 B = 16,060,522,496 B (14.957 GiB)
    // rest = 65.489 - 14.957 = 50.532 GiB = 54,257,809,503 B
    // cell = 8 KV heads x (128 + 128) x 32 layers x 2 B = 131,072 B -> 413,954 tokens
    const p = plan();
    expect(p.perRank.weights).toBe(16_060_522_496);
    expect(p.sglang.freeBeforeLoadBytes / GiB).toBeCloseTo(78.43, 6);
    expect(Math.floor(p.sglang.restBytes)).toBe(54_257_809_503);
    expect(p.kv.bytesPerTokenPerGpu).toBe(131_072);
    expect(p.kv.tokens).toBe(413_954);
    expect(p.perRank.kvCache).toBe(413_954 * 131_072);
    expect(p.kv.maxConcurrency).toBeCloseTo(413_954 / 131_072, 10);
    expect(p.perRank.nonTorch / GiB).toBeCloseTo(0.76, 6);
    // int(413954 / 131072 x 512) = 1617 -> clamped to 2048
    expect(p.sglang.maxRunningRequestsDefault).toBe(2048);
    expect(p.failures).toEqual([]);
  });

  it("reproduces a logged SGLang startup (H100, Llama-3-8B, mem_fraction_static 0.88, 2025-01)", () => {
    // Public SGLang log: "Load weight begin. avail mem=78.81 GB", "Load weight end ... avail mem=63.72 GB",
    // "KV Cache is allocated. K size: 27.13 GB, V size: 27.13 GB". rest = 63.72 - 78.81 x 0.12 = 54.26 GiB.
    const p = plan({
      gpu: { ...H100, freeBytes: (78.81 + 0.76) * GiB },
      weightBytesTotal: (78.81 - 63.72) * GiB,
      args: args({ gpuMemoryUtilization: 0.88 }),
    });
    expect(p.perRank.kvCache / GiB / 2).toBeCloseTo(27.13, 2);
  });

  it("halves the cell with an fp8 KV cache", () => {
    // 131,072 / 2 = 65,536 B per token -> floor(54,257,809,503 / 65,536) = 827,908 tokens
    const p = plan({ args: args({ kvCacheDtype: "fp8_e4m3" }) });
    expect(p.kv.bytesPerTokenPerGpu).toBe(65_536);
    expect(p.kv.tokens).toBe(827_908);
  });

  it("splits weights and KV heads across TP4 (Llama-3.1-70B on 4 x H100)", () => {
    const p = plan({
      arch: arch("llama-3", "meta-llama/Llama-3.1-70B-Instruct"),
      weightBytesTotal: 70_553_706_496 * 2,
      args: args({ tensorParallelSize: 4, gpuMemoryUtilization: 0.824 }),
    });
    // weights/rank: (70,553,706,496 - 1,318,912 norms) / 4 + 1,318,912 = 17,639,415,808 params x 2 B
    expect(p.perRank.weights).toBe(35_278_831_616);
    // free before load = 79.19 - 2.5 (TP startup) = 76.69 GiB; rest = 76.69 x 0.824 GiB - weights
    expect(Math.floor(p.sglang.restBytes)).toBe(32_573_663_021);
    // 8 KV heads / 4 = 2 per rank: 2 x 256 x 80 x 2 = 81,920 B -> 397,627 tokens
    expect(p.sglang.kvHeadsPerRank).toBe(2);
    expect(p.kv.bytesPerTokenPerGpu).toBe(81_920);
    expect(p.kv.tokens).toBe(397_627);
  });

  it("replicates KV heads when TP exceeds them (Qwen2.5-7B, 4 KV heads, TP8)", () => {
    const qwen = arch("qwen", "Qwen/Qwen2.5-7B-Instruct");
    const p = plan({
      arch: qwen,
      weightBytesTotal: 7_615_616_512 * 2,
      args: args({ tensorParallelSize: 8, gpuMemoryUtilization: 0.818, maxModelLen: 32768 }),
    });
    // max(1, 4 // 8) = 1 head per rank: 1 x 256 x 28 x 2 = 14,336 B
    expect(p.sglang.kvHeadsPerRank).toBe(1);
    expect(p.kv.bytesPerTokenPerGpu).toBe(14_336);
    // K/V projections replicated: 28 x 3584 x 256 x 1 params per rank instead of x 4 / 8
    // (7,615,616,512 - 204,288 - 102,760,448) / 8 + 204,288 + 25,690,112 = 964,975,872 params x 2 B
    expect(p.perRank.weights).toBe(1_929_951_744);
    expect(estimateSglangWeightsPerRank(qwen, 7_615_616_512 * 2, 8)).toBe(1_929_951_744);
  });

  it("keeps the whole MLA latent on every rank (DeepSeek-V3)", () => {
    const deepseek = arch("deepseek", "deepseek-ai/DeepSeek-V3");
    const run = (tp: number) =>
      plan({
        arch: deepseek,
        weightBytesTotal: 688.6e9,
        gpu: H200,
        args: args({ tensorParallelSize: tp, gpuMemoryUtilization: 0.83, maxModelLen: 163840 }),
      });
    // (kv_lora_rank 512 + rope 64) x 61 layers x 2 B = 70,272 B per token, whatever the TP size
    expect(run(8).kv.bytesPerTokenPerGpu).toBe(70_272);
    expect(run(4).kv.bytesPerTokenPerGpu).toBe(70_272);
    expect(run(8).sglang.kvHeadsPerRank).toBeNull();
    expect(run(8).kv.tokens).toBe(Math.floor(Math.floor(run(8).sglang.restBytes) / 70_272));
  });

  it("matches the per-token size SGLang reported for Qwen3-235B-A22B at TP4 (vllm-project/vllm#21348)", () => {
    // Logged: "#tokens: 367404, K size: 8.23 GB, V size: 8.23 GB" -> 16.46 GiB / 367404 = ~48.1 KB.
    // Model: 4 KV heads / 4 = 1 per rank: 1 x (128 + 128) x 94 layers x 2 B = 48,128 B.
    const p = plan({
      arch: arch("qwen", "Qwen/Qwen3-235B-A22B"),
      weightBytesTotal: 236e9,
      args: args({ tensorParallelSize: 4, gpuMemoryUtilization: 0.93, maxModelLen: 40960 }),
    });
    expect(p.kv.bytesPerTokenPerGpu).toBe(48_128);
    expect((367_404 * p.kv.bytesPerTokenPerGpu) / GiB).toBeCloseTo(16.46, 1);
  });

  it("splits a hybrid sliding-window pool by --swa-full-tokens-ratio (Gemma 3 12B)", () => {
    // 8 full + 40 sliding layers, 8 KV heads x (256 + 256) x 2 B: F = 65,536, S = 327,680 B per token
    // profile: floor(rest / 393,216) = 116,840; full = 116,840 x 393,216 / (F + 0.8 S) = 140,208; swa = 0.8 x full
    const p = plan({ arch: arch("gemma", "google/gemma-3-12b-it"), weightBytesTotal: 12_187_325_040 * 2 });
    expect(p.kv.bytesPerTokenPerGpu).toBe(393_216);
    expect(p.kv.tokens).toBe(140_208);
    expect(p.sglang.swaTokens).toBe(112_166);
    expect(p.perRank.kvCache).toBe(140_208 * 65_536 + 112_166 * 327_680);
  });

  it("gives the mamba state pool its share first (Qwen3-Next, --mamba-full-memory-ratio 0.9)", () => {
    const p = plan({
      arch: arch("qwen3-next", "Qwen/Qwen3-Next-80B-A3B-Instruct"),
      weightBytesTotal: 162.6e9,
      gpu: H200,
      args: args({ tensorParallelSize: 4, maxModelLen: 262144 }),
    });
    // only the 12 full-attention layers hold KV: max(1, 2 // 4) x 512 x 12 x 2 = 12,288 B per token
    expect(p.kv.bytesPerTokenPerGpu).toBe(12_288);
    expect(p.kv.tokens).toBe(Math.floor(Math.floor(p.sglang.restBytes / 1.9) / 12_288));
  });

  it("fails like SGLang when the weights do not fit or the pool is empty", () => {
    const tooBig = plan({
      arch: arch("llama-3", "meta-llama/Llama-3.1-70B-Instruct"),
      weightBytesTotal: 70_553_706_496 * 2,
    });
    expect(tooBig.failures.map((f) => f.kind)).toEqual(["weights-do-not-fit"]);
    expect(tooBig.failures[0]?.message).toMatch(/131\.42 GiB per rank but 78\.43 GiB free/);
    expect(tooBig.kv.tokens).toBe(0);

    // RTX 4090 at 0.6: 22.88 x 0.6 = 13.73 GiB static < 14.96 GiB of weights
    const empty = plan({ gpu: RTX_4090, args: args({ gpuMemoryUtilization: 0.6 }) });
    expect(empty.failures).toEqual([
      {
        kind: "no-kv-memory",
        message:
          "Not enough memory. Please try to increase --mem-fraction-static. Current value: self.server_args.mem_fraction_static=0.6",
      },
    ]);
  });

  it("notes a pool smaller than one full-length request without failing", () => {
    // RTX 4090 at its default 0.847: 22.88 x 0.847 - 14.957 = 4.42 GiB -> ~36k tokens < 131,072
    const p = plan({ gpu: RTX_4090, args: args({ gpuMemoryUtilization: 0.847 }) });
    expect(p.failures).toEqual([]);
    expect(p.kv.tokens).toBeGreaterThan(30_000);
    expect(p.kv.maxConcurrency).toBeLessThan(1);
    expect(p.notes.join("\n")).toMatch(/fewer than --context-length 131072/);
  });

  it("starts from the detected free memory and splits layers across pipeline stages", () => {
    const p = plan({ gpu: { ...H100, freeBytes: 40 * GiB } });
    expect(p.sglang.freeBeforeLoadBytes / GiB).toBeCloseTo(39.24, 6);
    const pp2 = plan({ args: args({ pipelineParallelSize: 2 }) });
    expect(pp2.sglang.layersPerRank).toBe(16);
    expect(pp2.perRank.weights).toBe(LLAMA_8B_BF16 / 2);
    expect(pp2.kv.bytesPerTokenPerGpu).toBe(65_536);
  });

  it("refuses a KV dtype SGLang does not accept and an impossible fraction", () => {
    expectInvalid(
      () => plan({ args: args({ kvCacheDtype: "fp8" }) }),
      /--kv-cache-dtype must be one of auto, fp8_e5m2/,
    );
    expectInvalid(() => plan({ args: args({ gpuMemoryUtilization: 1.2 }) }), /--mem-fraction-static/);
    expectInvalid(() => plan({ args: args({ tensorParallelSize: 0 }) }), /--tp-size/);
  });

  it("never shrinks the pool when --mem-fraction-static grows", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 0.97, noNaN: true }),
        fc.double({ min: 0, max: 0.02, noNaN: true }),
        (m, d) => {
          const a = plan({ args: args({ gpuMemoryUtilization: m }) }).kv.tokens;
          const b = plan({ args: args({ gpuMemoryUtilization: Math.min(0.99, m + d) }) }).kv.tokens;
          return b >= a;
        },
      ),
    );
  });
});
