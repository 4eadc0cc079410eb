import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { countParams } from "../../../src/core/model/count-params.js";
import { kvBytesPerToken } from "../../../src/core/model/kv-cache.js";
import { parseConfig } from "../../../src/core/model/parse-config.js";

const LLAMA_8B = {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
};

function expectConfigError(config: unknown, pattern: RegExp) {
  try {
    parseConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ServepilotError);
    const e = error as ServepilotError;
    expect(e.code).toBe("INVALID_MODEL_CONFIG");
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(pattern);
    return;
  }
  throw new Error("expected parseConfig to throw");
}

describe("parseConfig", () => {
  it("reads a dense GQA decoder and counts it like the checkpoint (Llama 3.1 8B: 8,030,261,248)", () => {
    const { architecture, warnings } = parseConfig(LLAMA_8B);
    expect(warnings).toEqual([]);
    expect(architecture.attention).toMatchObject({
      numHeads: 32,
      numKvHeads: 8,
      headDim: 128,
      qkvBias: false,
    });
    expect(architecture.layers.every((layer) => layer.attention === "full" && layer.mlp === "dense")).toBe(
      true,
    );
    expect(countParams(architecture).total).toBe(8_030_261_248);
    // 32 layers x 8 KV heads x (128 + 128) x 2 bytes
    expect(kvBytesPerToken(architecture).bytesPerToken).toBe(131_072);
  });

  it("lets an explicit head_dim win over hidden / heads (Mistral Nemo: 5120 / 32 = 160, head_dim 128)", () => {
    const { architecture } = parseConfig({
      ...LLAMA_8B,
      model_type: "mistral",
      hidden_size: 5120,
      head_dim: 128,
      num_hidden_layers: 40,
      vocab_size: 131072,
      sliding_window: null,
    });
    expect(architecture.attention.headDim).toBe(128);
    expect(architecture.attention.slidingWindow).toBeNull();
    expect(architecture.layers[0]?.attention).toBe("full");
  });

  it("reads Gemma 3 under text_config with class defaults and the 5:1 sliding/global pattern", () => {
    const { architecture } = parseConfig({
      model_type: "gemma3",
      text_config: {
        model_type: "gemma3_text",
        hidden_size: 2560,
        intermediate_size: 10240,
        num_hidden_layers: 34,
        sliding_window: 1024,
      },
      vision_config: {
        model_type: "siglip_vision_model",
        hidden_size: 1152,
        intermediate_size: 4304,
        num_hidden_layers: 27,
        num_attention_heads: 16,
        image_size: 896,
        patch_size: 14,
      },
    });
    expect(architecture.wrapperType).toBe("gemma3");
    expect(architecture.modelType).toBe("gemma3_text");
    expect(architecture.attention).toMatchObject({
      numHeads: 8,
      numKvHeads: 4,
      headDim: 256,
      slidingWindow: 1024,
      qkNorm: true,
    });
    const kinds = architecture.layers.map((layer) => layer.attention);
    expect(kinds.slice(0, 6)).toEqual(["sliding", "sliding", "sliding", "sliding", "sliding", "full"]);
    expect(kinds.filter((kind) => kind === "full")).toHaveLength(5);
    expect(architecture.tieWordEmbeddings).toBe(true);
    expect(architecture.vision?.kind).toBe("siglip");
    // published: 4.3B (google/gemma-3-4b-it)
    expect(countParams(architecture).total / 4.3e9).toBeCloseTo(1, 2);
  });

  it("reads DeepSeek V3 MLA, shared experts and first_k_dense_replace (671B total, MTP apart)", () => {
    const { architecture } = parseConfig({
      model_type: "deepseek_v3",
      num_nextn_predict_layers: 1,
      topk_method: "noaux_tc",
    });
    expect(architecture.attention.mla).toEqual({
      kvLoraRank: 512,
      qLoraRank: 1536,
      qkNopeHeadDim: 128,
      qkRopeHeadDim: 64,
      vHeadDim: 128,
    });
    expect(architecture.layers.slice(0, 4).map((layer) => layer.mlp)).toEqual([
      "dense",
      "dense",
      "dense",
      "moe",
    ]);
    expect(architecture.moe).toMatchObject({
      numExperts: 256,
      expertsPerToken: 8,
      numSharedExperts: 1,
      routerCorrectionBias: true,
    });
    const count = countParams(architecture);
    expect(count.total / 671e9).toBeCloseTo(1, 2);
    expect(count.active / 37e9).toBeGreaterThan(0.99);
    expect(count.mtp).toBeGreaterThan(11e9);
    // MLA caches one latent: (512 + 64) x 2 bytes x 61 layers, not split per head
    expect(kvBytesPerToken(architecture).bytesPerToken).toBe(576 * 2 * 61);
  });

  it("reads a DeepSeek-V2-Lite q_lora_rank of null as direct query projection", () => {
    const { architecture } = parseConfig({
      model_type: "deepseek_v2",
      hidden_size: 2048,
      num_hidden_layers: 27,
      num_attention_heads: 16,
      q_lora_rank: null,
      n_routed_experts: 64,
      n_shared_experts: 2,
      num_experts_per_tok: 6,
      moe_intermediate_size: 1408,
      intermediate_size: 10944,
      first_k_dense_replace: 1,
    });
    expect(architecture.attention.mla?.qLoraRank).toBeNull();
    expect(countParams(architecture).total / 15.7e9).toBeCloseTo(1, 1);
  });

  it("reads gpt-oss: alternating sliding/full, biased attention with sinks, 32 experts", () => {
    const { architecture } = parseConfig({
      model_type: "gpt_oss",
      num_hidden_layers: 24,
      num_local_experts: 32,
      num_experts_per_tok: 4,
    });
    expect(architecture.layers.slice(0, 4).map((layer) => layer.attention)).toEqual([
      "sliding",
      "full",
      "sliding",
      "full",
    ]);
    expect(architecture.attention).toMatchObject({
      sinks: true,
      qkvBias: true,
      outputBias: true,
      slidingWindow: 128,
    });
    expect(countParams(architecture).total / 20.9e9).toBeCloseTo(1, 2);
  });

  it("prefers an explicit layer_types list", () => {
    const { architecture } = parseConfig({
      model_type: "gpt_oss",
      num_hidden_layers: 4,
      layer_types: ["full_attention", "full_attention", "sliding_attention", "full_attention"],
    });
    expect(architecture.layers.map((layer) => layer.attention)).toEqual(["full", "full", "sliding", "full"]);
  });

  it("reads Llama 4: chunked local attention with a NoPE global layer every 4th, interleaved MoE", () => {
    const { architecture } = parseConfig({
      model_type: "llama4",
      text_config: { model_type: "llama4_text", num_local_experts: 128, interleave_moe_layer_step: 2 },
      vision_config: {
        model_type: "llama4_vision_model",
        hidden_size: 1408,
        image_size: 336,
        vision_output_dim: 4096,
      },
    });
    expect(architecture.attention.chunkSize).toBe(8192);
    expect(architecture.layers.slice(0, 4).map((layer) => layer.attention)).toEqual([
      "chunked",
      "chunked",
      "chunked",
      "full",
    ]);
    expect(architecture.layers.slice(0, 4).map((layer) => layer.mlp)).toEqual([
      "dense",
      "moe",
      "dense",
      "moe",
    ]);
    expect(architecture.intermediateSize).toBe(16384);
    expect(architecture.moe).toMatchObject({
      numExperts: 128,
      numSharedExperts: 1,
      expertIntermediateSize: 8192,
    });
  });

  it("reads Qwen3-Next: linear attention with full attention every 4th layer, no per-token KV for linear layers", () => {
    const { architecture } = parseConfig({
      model_type: "qwen3_next",
      num_hidden_layers: 48,
      hidden_size: 2048,
    });
    const kinds = architecture.layers.map((layer) => layer.attention);
    expect(kinds.filter((kind) => kind === "full")).toHaveLength(12);
    expect(kinds.slice(0, 4)).toEqual(["linear", "linear", "linear", "full"]);
    const kv = kvBytesPerToken(architecture);
    expect(kv.bytesPerToken).toBe(12 * 2 * 256 * 2 * 2);
    expect(kv.stateBytesPerSequence).toBeGreaterThan(0);
  });

  it("keeps qwen2 q/k/v biases and reads Qwen2.5-VL with its vision tower", () => {
    const { architecture } = parseConfig({
      model_type: "qwen2_5_vl",
      hidden_size: 3584,
      intermediate_size: 18944,
      num_hidden_layers: 28,
      num_attention_heads: 28,
      num_key_value_heads: 4,
      vocab_size: 152064,
      vision_config: {
        depth: 32,
        hidden_size: 1280,
        intermediate_size: 3420,
        num_heads: 16,
        out_hidden_size: 3584,
        in_chans: 3,
      },
    });
    expect(architecture.attention.qkvBias).toBe(true);
    expect(architecture.attention.outputBias).toBe(false);
    expect(architecture.vision?.kind).toBe("qwen2.5-vl");
    // published 8.29B (Qwen/Qwen2.5-VL-7B-Instruct safetensors)
    expect(countParams(architecture).total / 8.29e9).toBeCloseTo(1, 2);
  });

  it("falls back to a generic decoder with a warning for unknown model types", () => {
    const { architecture, warnings } = parseConfig({ ...LLAMA_8B, model_type: "brand_new_arch" });
    expect(architecture.generic).toBe(true);
    expect(warnings[0]).toMatch(/brand_new_arch.*generic decoder/);
    expect(countParams(architecture).total).toBe(8_030_261_248);
  });

  it("reads quantization_config: AWQ, GPTQ, fp8 block, compressed-tensors, mxfp4, bitsandbytes", () => {
    const quant = (quantization_config: Record<string, unknown>) =>
      parseConfig({ ...LLAMA_8B, quantization_config }).architecture.quantization;
    expect(
      quant({ quant_method: "awq", bits: 4, group_size: 128, zero_point: true, version: "gemm" }),
    ).toMatchObject({
      scheme: "w4a16",
      groupSize: 128,
      bytesPerWeight: 0.5 + 2.5 / 128,
    });
    expect(quant({ quant_method: "gptq", bits: 8, group_size: 128, desc_act: false })?.scheme).toBe("w8a16");
    expect(
      quant({ quant_method: "fp8", activation_scheme: "dynamic", weight_block_size: [128, 128] }),
    ).toMatchObject({
      scheme: "fp8-block",
      bytesPerWeight: 1 + 4 / 16384,
    });
    expect(
      quant({
        quant_method: "compressed-tensors",
        ignore: ["lm_head"],
        config_groups: {
          group_0: {
            weights: { num_bits: 8, type: "float", strategy: "channel", symmetric: true },
            input_activations: { num_bits: 8, type: "float", strategy: "token", dynamic: true },
            targets: ["Linear"],
          },
        },
      }),
    ).toMatchObject({ scheme: "w8a8-fp8", unquantizedModules: ["lm_head"] });
    expect(
      quant({ quant_method: "mxfp4", modules_to_not_convert: ["model.layers.*.self_attn"] }),
    ).toMatchObject({
      appliesTo: "experts",
      bytesPerWeight: 0.53125,
    });
    expect(
      quant({ quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_quant_type: "nf4" })?.scheme,
    ).toBe("nf4");
  });

  it("names the field and the expected value on bad input", () => {
    expectConfigError(
      { ...LLAMA_8B, num_key_value_heads: "eight" },
      /num_key_value_heads must be a positive integer, got "eight"/,
    );
    expectConfigError(
      { ...LLAMA_8B, num_attention_heads: 0 },
      /num_attention_heads must be a positive integer, got 0/,
    );
    expectConfigError(
      { ...LLAMA_8B, hidden_size: -4096 },
      /hidden_size must be a positive integer, got -4096/,
    );
    expectConfigError(
      { ...LLAMA_8B, num_attention_heads: 24 },
      /num_attention_heads must be a divisor of hidden_size \(4096\)/,
    );
    expectConfigError(
      { ...LLAMA_8B, num_key_value_heads: 5 },
      /num_key_value_heads must be a divisor of num_attention_heads \(32\)/,
    );
    expectConfigError(
      { model_type: "gemma3", text_config: { hidden_size: "big" } },
      /text_config\.hidden_size must be/,
    );
    expectConfigError([1, 2, 3], /must be a JSON object/);
    expectConfigError({ ...LLAMA_8B, hidden_size: 1e12 }, /hidden_size must be a positive integer <= /);
  });
});

const FIELDS = [
  "model_type",
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "vocab_size",
  "sliding_window",
  "layer_types",
  "num_local_experts",
  "num_experts_per_tok",
  "n_routed_experts",
  "kv_lora_rank",
  "q_lora_rank",
  "text_config",
  "vision_config",
  "quantization_config",
  "tie_word_embeddings",
  "first_k_dense_replace",
];
const MODEL_TYPES = [
  "llama",
  "qwen3_moe",
  "deepseek_v3",
  "gemma3",
  "gpt_oss",
  "llama4",
  "qwen3_next",
  "mllama",
  "qwen2_5_vl",
  "llava",
  "x",
];

function expectResultOrTypedError(config: unknown) {
  try {
    const { architecture } = parseConfig(config);
    const count = countParams(architecture);
    expect(Number.isFinite(count.total)).toBe(true);
    expect(Number.isFinite(kvBytesPerToken(architecture).bytesPerToken)).toBe(true);
  } catch (error) {
    if (!(error instanceof ServepilotError)) throw error;
    expect(error.code).toBe("INVALID_MODEL_CONFIG");
  }
}

describe("parseConfig properties", () => {
  it("returns a result or a typed error for random values in known fields", () => {
    const value = fc.oneof(
      fc.integer({ min: -10, max: 70000 }),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 5 }),
      fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(fc.integer({ min: -2, max: 5000 }), fc.string())),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...MODEL_TYPES),
        fc.dictionary(fc.constantFrom(...FIELDS), value),
        (type, fields) => {
          expectResultOrTypedError({ model_type: type, ...fields });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("returns a result or a typed error for mutations of a valid config", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(LLAMA_8B) as Array<keyof typeof LLAMA_8B>)),
        fc.anything(),
        (key, replacement) => {
          expectResultOrTypedError({ ...LLAMA_8B, [key]: replacement });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("returns a result or a typed error for arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => expectResultOrTypedError(json)),
      { numRuns: 1000 },
    );
  });
});
