import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type LlamaCppSpec,
  LlamaCppSpecSchema,
  parseLlamaCppBuild,
  selectLlamaCppSpec,
} from "../../../src/core/engines/llamacpp-spec.js";
import { SglangSpecSchema, selectSglangSpec } from "../../../src/core/engines/sglang-spec.js";
import { ServepilotError } from "../../../src/core/errors.js";
import {
  assignLlamaCppLayers,
  type LlamaCppMemoryInput,
  llamaCppRowBytes,
  planLlamaCppMemory,
  resolveLlamaCppContext,
} from "../../../src/core/memory/llamacpp.js";
import type { GpuMemoryTarget, ResolvedEngineArgs } from "../../../src/core/memory/types.js";
import type { Architecture } from "../../../src/core/model/architecture.js";
import { GGML_TYPE_SIZES } from "../../../src/core/model/gguf-config.js";
import { parseConfig } from "../../../src/core/model/parse-config.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const root = new URL("../../../", import.meta.url);
const specs = LlamaCppSpecSchema.array().parse(
  parse(readFileSync(new URL("data/engines/llamacpp.yaml", root), "utf8")),
);
function spec(id: string): LlamaCppSpec {
  const found = specs.find((s) => s.id === id);
  if (!found) throw new Error(`no spec ${id}`);
  return found;
}
const CURRENT = spec("llamacpp-b7475");
const OLD = spec("llamacpp-b6981");

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
/**
 * Meta-Llama-3-8B Q4_K_M as llama.cpp loaded it: "CUDA0 buffer size = 4403.49 MiB" + "CPU buffer size =
 * 281.81 MiB" (token_embd), "CUDA0 compute buffer size = 258.50 MiB" at n_ubatch 512 (public llama-cpp-python
 * log, llm_load_tensors / llama_new_context_with_model lines).
 */
const Q4_K_M_BYTES = 4_912_895_180; // 4685.30 MiB
const RTX_4090: GpuMemoryTarget = {
  vendor: "nvidia",
  totalBytes: 23.64 * GiB,
  freeBytes: null,
  computeCapability: "8.9",
  gfxTarget: null,
  fp8: true,
};

function args(overrides: Partial<ResolvedEngineArgs> = {}): ResolvedEngineArgs {
  return {
    tensorParallelSize: 1,
    pipelineParallelSize: 1,
    maxModelLen: 8192,
    gpuMemoryUtilization: 1,
    dtype: "float16",
    quantization: "gguf",
    kvCacheDtype: "f16",
    maxNumSeqs: 4,
    maxNumBatchedTokens: 2048,
    blockSize: 1,
    enforceEager: false,
    ...overrides,
  };
}

function plan(overrides: Partial<LlamaCppMemoryInput> = {}) {
  return planLlamaCppMemory({
    arch: LLAMA_8B,
    weightBytesTotal: Q4_K_M_BYTES,
    gpu: RTX_4090,
    gpuCount: 1,
    args: args(),
    nGpuLayers: "all",
    spec: CURRENT,
    ...overrides,
  });
}

function device(p: ReturnType<typeof plan>, index = 0) {
  const d = p.llamacpp.devices[index];
  if (!d) throw new Error(`no device ${index}`);
  return d;
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

describe("data/engines/llamacpp.yaml", () => {
  it("validates against LlamaCppSpecSchema; every cache type has a ggml size", () => {
    expect(specs.map((s) => s.id)).toEqual(["llamacpp-b7475", "llamacpp-b7444", "llamacpp-b6981"]);
    for (const s of specs) {
      expect(s.engine).toBe("llamacpp");
      for (const type of s.cacheTypes) expect(GGML_TYPE_SIZES[type.toUpperCase()]).toBeDefined();
    }
  });

  it("selects entries by build and leaves no gap between ranges", () => {
    expect(selectLlamaCppSpec(specs, "b6981").id).toBe("llamacpp-b6981");
    expect(selectLlamaCppSpec(specs, "b7443").id).toBe("llamacpp-b6981");
    expect(selectLlamaCppSpec(specs, "b7444").id).toBe("llamacpp-b7444");
    expect(selectLlamaCppSpec(specs, "7474").id).toBe("llamacpp-b7444");
    expect(selectLlamaCppSpec(specs, "b10573").id).toBe("llamacpp-b7475");
    expectInvalid(() => selectLlamaCppSpec(specs, "b6000"), /no llama\.cpp memory data/);
    expectInvalid(() => parseLlamaCppBuild("latest"), /a llama\.cpp build like b7475/);
  });

  it("selects SGLang entries by release (data/engines/sglang.yaml)", () => {
    const sglang = SglangSpecSchema.array().parse(
      parse(readFileSync(new URL("data/engines/sglang.yaml", root), "utf8")),
    );
    expect(selectSglangSpec(sglang, "0.4.9").id).toBe("sglang-0.4.7");
    expect(selectSglangSpec(sglang, "0.5.2").id).toBe("sglang-0.4.7");
    expect(selectSglangSpec(sglang, "0.5.3").id).toBe("sglang-0.5.3");
    expect(selectSglangSpec(sglang, "v0.5.6.post2").id).toBe("sglang-0.5.3");
    expect(selectSglangSpec(sglang, "0.5.20").id).toBe("sglang-0.5.9");
    expectInvalid(() => selectSglangSpec(sglang, "0.4.6"), /no SGLang memory data/);
  });
});

describe("resolveLlamaCppContext", () => {
  it("pads -c to 256 and splits it between slots", () => {
    // -c 8192 -np 4: n_ctx_seq = pad256(8192 / 4) = 2048, one stream per slot
    expect(resolveLlamaCppContext(CURRENT, 8192, 4, false)).toEqual({
      nCtx: 8192,
      nCtxSeq: 2048,
      slots: 4,
      kvUnified: false,
      streams: 4,
      nBatch: 2048,
      nUbatch: 512,
    });
    // -c 10000 -np 3: pad256(10000) = 10240; 10240 / 3 = 3413 -> 3584; n_ctx = 3584 x 3 = 10752
    expect(resolveLlamaCppContext(CURRENT, 10000, 3, false)).toMatchObject({ nCtx: 10752, nCtxSeq: 3584 });
    // unified: every slot may use all 10240 cells, one stream
    expect(resolveLlamaCppContext(CURRENT, 10000, 3, true)).toMatchObject({
      nCtx: 10240,
      nCtxSeq: 10240,
      streams: 1,
    });
    // -c 300: 512 cells; n_batch = min(512, 2048)
    expect(resolveLlamaCppContext(CURRENT, 300, 1, false)).toMatchObject({
      nCtx: 512,
      nBatch: 512,
      nUbatch: 512,
    });
  });
});

describe("assignLlamaCppLayers", () => {
  it("offloads the output layer first since b7475, the last layers before", () => {
    // 32 layers, -ngl 20: i_gpu_start = 33 - 20 = 13 -> layers 13..31 and the output (index 32) on GPU 0
    const current = assignLlamaCppLayers(CURRENT, 32, 20, 1);
    expect(current.filter((d) => d === 0)).toHaveLength(20);
    expect(current.slice(0, 13).every((d) => d === -1)).toBe(true);
    expect(current[32]).toBe(0);
    // b6981: i_gpu_start = 32 - 20 = 12 -> layers 12..31 on GPU 0, output on the CPU
    const old = assignLlamaCppLayers(OLD, 32, 20, 1);
    expect(old.slice(12, 32).every((d) => d === 0)).toBe(true);
    expect(old[32]).toBe(-1);
    expect(assignLlamaCppLayers(OLD, 32, 33, 1).every((d) => d === 0)).toBe(true);
    expect(assignLlamaCppLayers(CURRENT, 32, 0, 1).every((d) => d === -1)).toBe(true);
  });

  it("splits layers across GPUs in equal shares (--split-mode layer)", () => {
    // 33 offloaded layers; layer il goes to GPU 0 while il / 33 < 0.5 -> 0..16 on GPU 0, 17..32 on GPU 1
    const two = assignLlamaCppLayers(CURRENT, 32, "all", 2);
    expect(two.filter((d) => d === 0)).toHaveLength(17);
    expect(two.slice(17).every((d) => d === 1)).toBe(true);
  });
});

describe("planLlamaCppMemory", () => {
  it("plans a Q4_K_M 8B with -c 8192 --parallel 4 -ngl all on an RTX 4090", () => {
    const p = plan();
    const d = device(p);
    // weights on GPU = everything but token_embd; estimate: embeddings are 525,336,576 of 8,030,261,248 params
    // -> 4685.30 x (1 - 0.06542) = 4378.79 MiB (llama.cpp printed 4403.49 MiB: Q4_K embedding, Q6_K output)
    expect(d.weights).toBeCloseTo(Q4_K_M_BYTES * (1 - 525_336_576 / 8_030_261_248), 0);
    expect(Math.abs(d.weights / MiB - 4403.49) / 4403.49).toBeLessThan(0.01);
    expect(p.llamacpp.host.weights / MiB).toBeCloseTo(306.51, 1);
    // KV: 32 layers x 8192 cells x (1024 + 1024) x 2 B = 1024 MiB
    expect(d.kvCache).toBe(1_073_741_824);
    // compute: logits 128,256 x 512 x 4 + hidden 512 x 4096 x 4 = 271,056,896 B = 258.50 MiB (as logged)
    expect(d.compute).toBe(271_056_896);
    expect(p.perRank.requested).toBe(d.weights + 1_073_741_824 + 271_056_896);
    expect(p.perRank.nonTorch).toBe(472 * MiB);
    expect(p.kv).toMatchObject({ tokens: 8192, maxConcurrency: 4, bytesPerTokenPerGpu: 131_072 });
    expect(p.llamacpp.context.nCtxSeq).toBe(2048);
    expect(p.failures).toEqual([]);
  });

  it("splits weights exactly from the GGUF tensor list, duplicating a tied embedding", () => {
    // token_embd Q4_K: 4096 / 256 x 144 B = 2304 B a row x 128,256 = 295,501,824 B (the logged 281.81 MiB)
    // output Q6_K: 16 x 210 = 3360 B a row x 128,256 = 430,940,160 B; blocks: Q4_K [4096, 28672] = 66,060,288 B
    const tensors = [
      { name: "token_embd.weight", shape: [4096, 128256], ggmlType: "Q4_K" },
      { name: "output.weight", shape: [4096, 128256], ggmlType: "Q6_K" },
      { name: "output_norm.weight", shape: [4096], ggmlType: "F32" },
      ...Array.from({ length: 32 }, (_, i) => ({
        name: `blk.${i}.ffn_down.weight`,
        shape: [4096, 28672],
        ggmlType: "Q4_K",
      })),
    ];
    const p = plan({ ggufTensors: tensors });
    expect(device(p).weights).toBe(430_940_160 + 16_384 + 32 * 66_060_288);
    expect(p.llamacpp.host.weights).toBe(295_501_824);

    const tied = plan({ ggufTensors: tensors.filter((t) => t.name !== "output.weight") });
    expect(device(tied).weights).toBe(295_501_824 + 16_384 + 32 * 66_060_288);
    expect(tied.llamacpp.host.weights).toBe(295_501_824);
    const cpuOnly = plan({ ggufTensors: tensors.filter((t) => t.name !== "output.weight"), nGpuLayers: 0 });
    expect(cpuOnly.llamacpp.host.weights).toBe(295_501_824 + 16_384 + 32 * 66_060_288);
  });

  it("sizes a q8_0 KV cache by ggml blocks", () => {
    // a 1024-wide row of q8_0: 32 blocks x 34 B = 1088 B; 32 x 8192 x 2 x 1088 = 544 MiB
    expect(llamaCppRowBytes("q8_0", 1024)).toBe(1088);
    const p = plan({ args: args({ kvCacheDtype: "q8_0" }) });
    expect(device(p).kvCache).toBe(570_425_344);
    const mixed = plan({ args: args({ kvCacheDtype: "q8_0" }), cacheTypeV: "f16" });
    expect(device(mixed).kvCache).toBe(32 * 8192 * (1088 + 2048));
  });

  it("keeps non-offloaded layers and their KV on the host (-ngl 20)", () => {
    const p = plan({ nGpuLayers: 20 });
    // b7475: output + 19 layers; KV 19 x 32 MiB on the GPU, 13 x 32 MiB in host memory
    expect(device(p)).toMatchObject({ repeatingLayers: 19, outputLayer: true, kvCache: 19 * 32 * MiB });
    expect(p.llamacpp.host.kvCache).toBe(13 * 32 * MiB);
    const old = plan({ nGpuLayers: 20, spec: OLD });
    // b6981: 20 layers, output on the CPU; the GPU computes no logits: FFN 512 x (2 x 14336 + 2 x 4096) x 4 = 72 MiB
    expect(device(old)).toMatchObject({ repeatingLayers: 20, outputLayer: false, kvCache: 20 * 32 * MiB });
    expect(device(old).compute).toBe(72 * MiB);
    expect(old.notes.join("\n")).toMatch(/partial offload/);
  });

  it("splits layers and KV across two GPUs", () => {
    const p = plan({ gpuCount: 2 });
    expect(device(p, 0)).toMatchObject({
      name: "CUDA0",
      repeatingLayers: 17,
      outputLayer: false,
      kvCache: 17 * 32 * MiB,
    });
    expect(device(p, 1)).toMatchObject({
      name: "CUDA1",
      repeatingLayers: 15,
      outputLayer: true,
      kvCache: 15 * 32 * MiB,
    });
    expect(device(p, 1).compute).toBe(271_056_896);
    // perRank is the busier device
    expect(p.perRank.kvCache).toBe(15 * 32 * MiB);
  });

  it("caps sliding-window layers unless --swa-full (Gemma 3 12B, -c 32768 -np 4)", () => {
    const gemma = arch("gemma", "google/gemma-3-12b-it");
    const run = (o: Partial<LlamaCppMemoryInput>) =>
      plan({ arch: gemma, weightBytesTotal: 7.3e9, args: args({ maxModelLen: 32768 }), ...o });
    // one cell of one layer: 8 KV heads x 256 x 2 B for K and for V = 8192 B
    // SWA cells per stream: pad256(min(8192, 1024 + 512)) = 1536
    // 8 full layers x 32768 x 8192 + 40 SWA layers x 1536 x 4 streams x 8192 = 2048 + 1920 MiB
    const p = run({});
    expect(p.llamacpp.swaCellsPerStream).toBe(1536);
    expect(device(p).kvCache).toBe(3968 * MiB);
    expect(device(run({ swaFull: true })).kvCache).toBe(48 * 32768 * 8192);
    // unified: window x 4 slots + 512 = 4608 cells, one stream: 2048 MiB + 40 x 4608 x 8192 = 3488 MiB
    const unified = run({ kvUnified: true });
    expect(unified.llamacpp.swaCellsPerStream).toBe(4608);
    expect(device(unified).kvCache).toBe(3488 * MiB);
  });

  it("stores one MLA latent row and no V (DeepSeek-V2-Lite)", () => {
    const lite = arch("deepseek", "deepseek-ai/DeepSeek-V2-Lite-Chat");
    const p = plan({
      arch: lite,
      weightBytesTotal: 10.4e9,
      args: args({ maxModelLen: 4096, maxNumSeqs: 1 }),
    });
    // (512 + 64) x 2 B = 1152 B per layer and cell; 27 layers x 4096 cells
    expect(p.kv.bytesPerTokenPerGpu).toBe(27 * 1152);
    expect(device(p).kvCache).toBe(27 * 4096 * 1152);
  });

  it("counts the KQ scores without flash attention and refuses a quantized V cache there", () => {
    // -np 1 (b7475 keeps one slot): 512 x 8192 x 32 heads x 4 + 512 x 2 x 4096 x 4 = 528 MiB > 258.5 MiB logits
    const p = plan({ flashAttention: "off", args: args({ maxNumSeqs: 1 }) });
    expect(p.llamacpp.context).toMatchObject({ slots: 1, nCtxSeq: 8192 });
    expect(device(p).compute).toBe(528 * MiB);
    expectInvalid(
      () => plan({ flashAttention: "off", args: args({ kvCacheDtype: "q8_0" }) }),
      /needs flash attention/,
    );
  });

  it("applies the b6931-b7443 server default: --parallel 1 becomes 4 unified slots", () => {
    const p = plan({ spec: OLD, args: args({ maxNumSeqs: 1 }) });
    expect(p.llamacpp.context).toMatchObject({
      slots: 4,
      kvUnified: true,
      nCtx: 8192,
      nCtxSeq: 8192,
      streams: 1,
    });
    expect(p.kv.maxConcurrency).toBe(4);
    expect(p.notes.join("\n")).toMatch(/turns --parallel 1 into 4 slots/);
  });

  it("fails in llama.cpp's allocation order: weights, then KV cache, then compute buffers", () => {
    const big = plan({
      arch: arch("llama-3", "meta-llama/Llama-3.1-70B-Instruct"),
      weightBytesTotal: 42.52e9,
    });
    expect(big.failures.map((f) => f.kind)).toEqual(["weights-do-not-fit"]);
    expect(big.failures[0]?.message).toMatch(
      /cudaMalloc failed: out of memory.*unable to allocate CUDA0 buffer/,
    );

    // -c 262144 -np 1: KV = 32 x 262144 x 4096 B = 32 GiB > 23.18 GiB free
    const longCtx = plan({ args: args({ maxModelLen: 262144, maxNumSeqs: 1 }) });
    expect(longCtx.failures.map((f) => f.kind)).toEqual(["no-kv-memory"]);
    expect(longCtx.failures[0]?.message).toMatch(/failed to allocate buffer for kv cache/);
    expect(longCtx.notes.join("\n")).toMatch(/n_ctx_seq \(262144\) > n_ctx_train \(131072\)/);

    const fits = device(plan());
    const tight = (spareMiB: number) =>
      plan({ gpu: { ...RTX_4090, freeBytes: 472 * MiB + fits.weights + fits.kvCache + spareMiB * MiB } });
    expect(tight(100).failures.map((f) => f.kind)).toEqual(["insufficient-free-memory"]);
    expect(tight(100).failures[0]?.message).toMatch(/failed to allocate compute pp buffers/);
    expect(tight(300).failures).toEqual([]);
    expect(tight(300).notes.join("\n")).toMatch(/under the 1024 MiB llama\.cpp's --fit keeps free/);
  });

  it("names AMD devices ROCmN", () => {
    expect(device(plan({ gpu: { ...RTX_4090, vendor: "amd" } })).name).toBe("ROCm0");
  });

  it("refuses flags llama-server would refuse", () => {
    expectInvalid(() => plan({ nGpuLayers: -3 }), /-ngl must be a non-negative integer or "all"/);
    expectInvalid(
      () => plan({ args: args({ kvCacheDtype: "q3_k" }) }),
      /--cache-type-k must be one of f32, f16/,
    );
    expectInvalid(() => plan({ args: args({ maxNumSeqs: 0 }) }), /--parallel must be a positive integer/);
  });
});
