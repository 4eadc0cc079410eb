import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import {
  GGML_TYPE_SIZES,
  type GgufConfigSource,
  ggufTensorBytes,
  ggufToConfig,
} from "../../../src/core/model/gguf-config.js";
import { loadFixtureJson } from "./fixture-files.js";

/** Metadata transcribed from real llama.cpp dumps (see each fixture's `sources`). */
async function loadGgufFixture(name: string): Promise<GgufConfigSource> {
  return (await loadFixtureJson(`gguf-metadata/${name}.json`)) as unknown as GgufConfigSource;
}

describe("ggufToConfig on real GGUF metadata", () => {
  it("maps Llama 3.1 8B Instruct (llama) to the HF config values", async () => {
    const config = ggufToConfig(await loadGgufFixture("llama-3.1-8b-instruct-q4_k_m"));
    expect(config).toMatchObject({
      model_type: "llama",
      num_hidden_layers: 32,
      hidden_size: 4096,
      intermediate_size: 14336,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      max_position_embeddings: 131072,
      vocab_size: 128256,
      rope_theta: 500000,
      rms_norm_eps: 1e-5,
      tie_word_embeddings: false,
      bos_token_id: 128000,
      eos_token_id: 128009,
    });
    // A Q4_K_M file says nothing of the checkpoint dtype.
    expect(config).not.toHaveProperty("torch_dtype");
    expect(config).not.toHaveProperty("sliding_window");
  });

  it("maps Qwen2.5 72B (qwen2), vocab from the token list length", async () => {
    const config = ggufToConfig(await loadGgufFixture("qwen2.5-72b-instruct-q4_k_m"));
    expect(config).toMatchObject({
      model_type: "qwen2",
      num_hidden_layers: 80,
      hidden_size: 8192,
      intermediate_size: 29568,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      max_position_embeddings: 32768,
      vocab_size: 152064,
      rope_theta: 1000000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: false,
      eos_token_id: 151645,
    });
  });

  it("maps DeepSeek R1 in the old (MHA-sized) MLA layout to deepseek_v3 keys", async () => {
    const config = ggufToConfig(await loadGgufFixture("deepseek-r1-mha-layout"));
    expect(config).toMatchObject({
      model_type: "deepseek_v3",
      num_hidden_layers: 61,
      hidden_size: 7168,
      intermediate_size: 18432,
      num_attention_heads: 128,
      num_key_value_heads: 128,
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      qk_nope_head_dim: 128,
      v_head_dim: 128,
      n_routed_experts: 256,
      num_experts_per_tok: 8,
      n_shared_experts: 1,
      moe_intermediate_size: 2048,
      first_k_dense_replace: 3,
      scoring_func: "sigmoid",
      topk_method: "noaux_tc",
      routed_scaling_factor: 2.5,
      norm_topk_prob: true,
      vocab_size: 129280,
      rope_scaling: {
        rope_type: "yarn",
        factor: 40,
        original_max_position_embeddings: 4096,
        mscale_all_dim: 1,
      },
    });
    expect(config).not.toHaveProperty("head_dim");
  });

  it("reads the per-head sizes from key_length_mla / value_length_mla in the MQA layout", async () => {
    const config = ggufToConfig(await loadGgufFixture("deepseek-r1-mla-layout"));
    // key_length 576 / value_length 512 / head_count_kv 1 describe the compressed cache, not heads.
    expect(config).toMatchObject({
      model_type: "deepseek_v3",
      num_key_value_heads: 128,
      qk_nope_head_dim: 128,
      v_head_dim: 128,
      kv_lora_rank: 512,
    });
  });

  it("tells DeepSeek-V2 (softmax routing, no gating key) from V3", async () => {
    const config = ggufToConfig(await loadGgufFixture("deepseek-v2-chat"));
    expect(config).toMatchObject({
      model_type: "deepseek_v2",
      scoring_func: "softmax",
      n_routed_experts: 160,
      n_shared_experts: 2,
      num_experts_per_tok: 6,
      moe_intermediate_size: 1536,
      first_k_dense_replace: 1,
      routed_scaling_factor: 16,
      qk_nope_head_dim: 128,
    });
    expect(config).not.toHaveProperty("topk_method");
  });

  it("maps a llama-architecture file with experts to mixtral", async () => {
    const config = ggufToConfig(await loadGgufFixture("mixtral-8x7b-q4_0"));
    expect(config).toMatchObject({
      model_type: "mixtral",
      num_local_experts: 8,
      num_experts_per_tok: 2,
      intermediate_size: 14336,
      vocab_size: 32000,
      max_position_embeddings: 32768,
    });
    expect(config).not.toHaveProperty("tie_word_embeddings"); // no tensors listed: unknown
  });

  it("maps gpt-oss with its head size, sliding window and experts", async () => {
    const config = ggufToConfig(await loadGgufFixture("gpt-oss-120b-mxfp4"));
    expect(config).toMatchObject({
      model_type: "gpt_oss",
      num_hidden_layers: 36,
      hidden_size: 2880,
      head_dim: 64,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      sliding_window: 128,
      num_local_experts: 128,
      num_experts_per_tok: 4,
      intermediate_size: 2880,
      vocab_size: 201088,
      rope_theta: 150000,
      rope_scaling: { rope_type: "yarn", factor: 32, original_max_position_embeddings: 4096 },
      tie_word_embeddings: false,
    });
  });
});

describe("ggufToConfig rules", () => {
  const base = (
    metadata: Record<string, unknown>,
    tensors: GgufConfigSource["tensors"] = [],
  ): GgufConfigSource => ({
    architecture: "qwen3moe",
    metadata: {
      "qwen3moe.block_count": 48,
      "qwen3moe.embedding_length": 2048,
      "qwen3moe.attention.head_count": 32,
      ...metadata,
    },
    tensors,
  });

  it("names MoE keys per family and marks a missing output tensor as tied", () => {
    const config = ggufToConfig(
      base(
        {
          "qwen3moe.expert_count": 128,
          "qwen3moe.expert_used_count": 8,
          "qwen3moe.expert_feed_forward_length": 768,
        },
        [{ name: "token_embd.weight", shape: [2048, 151936], ggmlType: "Q8_0" }],
      ),
    );
    expect(config).toMatchObject({
      model_type: "qwen3_moe",
      num_experts: 128,
      num_experts_per_tok: 8,
      moe_intermediate_size: 768,
      vocab_size: 151936,
      tie_word_embeddings: true,
    });
  });

  it("turns a per-layer sliding-window pattern into layer_types and keeps unquantized dtypes", () => {
    const config = ggufToConfig({
      architecture: "gemma3",
      metadata: {
        "gemma3.block_count": 3,
        "gemma3.embedding_length": 640,
        "gemma3.attention.head_count": 4,
        "gemma3.attention.sliding_window": 512,
        "gemma3.attention.sliding_window_pattern": [true, true, false],
        "general.file_type": 32,
      },
      tensors: [],
    });
    expect(config).toMatchObject({
      model_type: "gemma3",
      sliding_window: 512,
      layer_types: ["sliding_attention", "sliding_attention", "full_attention"],
      torch_dtype: "bfloat16",
    });
  });

  it("does not count GLM-4.5's MTP block as a decoder layer", () => {
    const config = ggufToConfig({
      architecture: "glm4moe",
      metadata: {
        "glm4moe.block_count": 47,
        "glm4moe.nextn_predict_layers": 1,
        "glm4moe.embedding_length": 4096,
        "glm4moe.attention.head_count": 96,
        "glm4moe.expert_count": 128,
        "glm4moe.leading_dense_block_count": 1,
        "glm4moe.expert_shared_count": 1,
      },
      tensors: [],
    });
    expect(config).toMatchObject({
      model_type: "glm4_moe",
      num_hidden_layers: 46,
      num_nextn_predict_layers: 1,
      n_routed_experts: 128,
      first_k_dense_replace: 1,
      n_shared_experts: 1,
    });
  });

  it("refuses metadata without the required sizes, naming the key", () => {
    expect(() => ggufToConfig(base({ "qwen3moe.embedding_length": undefined }))).toThrow(
      /GGUF metadata: qwen3moe\.embedding_length must be a positive integer/,
    );
    const error = (() => {
      try {
        ggufToConfig(base({ "qwen3moe.block_count": "48" }));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("INVALID_MODEL_CONFIG");
    expect((error as ServepilotError).message).toContain('qwen3moe.block_count must be a number, got "48"');
  });

  it("passes unknown architectures through as a model_type", () => {
    expect(
      ggufToConfig({
        ...base({}),
        architecture: "minimax-m2",
        metadata: {
          "minimax-m2.block_count": 2,
          "minimax-m2.embedding_length": 8,
          "minimax-m2.attention.head_count": 2,
        },
      }).model_type,
    ).toBe("minimax_m2");
  });
});

describe("ggufTensorBytes", () => {
  it("uses llama.cpp's block sizes", () => {
    // Rows of ne[0] weights in whole blocks: Q4_K 144 bytes / 256, Q8_0 34 / 32, Q6_K 210 / 256.
    expect(ggufTensorBytes([{ shape: [4096, 4096], ggmlType: "Q4_K" }])).toBe(4096 * 16 * 144);
    expect(ggufTensorBytes([{ shape: [4096, 14336], ggmlType: "Q8_0" }])).toBe(14336 * 128 * 34);
    expect(ggufTensorBytes([{ shape: [14336, 4096], ggmlType: "Q6_K" }])).toBe(4096 * 56 * 210);
    expect(
      ggufTensorBytes([
        { shape: [4096], ggmlType: "F32" },
        { shape: [10, 10], ggmlType: "BF16" },
      ]),
    ).toBe(4096 * 4 + 200);
    expect(ggufTensorBytes([{ shape: [2880, 2880, 128], ggmlType: "MXFP4" }])).toBe(2880 * 128 * 90 * 17);
  });

  it("is null when a type is unknown", () => {
    expect(ggufTensorBytes([{ shape: [32], ggmlType: "UNKNOWN_99" }])).toBeNull();
  });

  it("grows linearly with the number of rows for every known type", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(GGML_TYPE_SIZES)),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 64 }),
        (ggmlType, rowLength, rows) => {
          const one = ggufTensorBytes([{ shape: [rowLength], ggmlType }]) ?? Number.NaN;
          expect(ggufTensorBytes([{ shape: [rowLength, rows], ggmlType }])).toBe(one * rows);
          // Never less than the bits a block type promises per weight.
          const size = GGML_TYPE_SIZES[ggmlType] as { blockSize: number; typeSize: number };
          expect(one).toBeGreaterThanOrEqual((rowLength * size.typeSize) / size.blockSize);
        },
      ),
    );
  });
});

describe("ggufToConfig output and the config parser", () => {
  it("is accepted by parseConfig for every fixture, with the same sizes", async () => {
    const { parseConfig } = await import("../../../src/core/model/parse-config.js");
    const names = [
      "llama-3.1-8b-instruct-q4_k_m",
      "qwen2.5-72b-instruct-q4_k_m",
      "deepseek-r1-mha-layout",
      "deepseek-r1-mla-layout",
      "deepseek-v2-chat",
      "mixtral-8x7b-q4_0",
      "gpt-oss-120b-mxfp4",
    ];
    for (const name of names) {
      const config = ggufToConfig(await loadGgufFixture(name));
      const { architecture, warnings } = parseConfig(config, { label: name });
      expect(warnings, name).toEqual([]);
      expect(architecture.hiddenSize, name).toBe(config.hidden_size);
      expect(architecture.numLayers, name).toBe(config.num_hidden_layers);
    }
  });
});
