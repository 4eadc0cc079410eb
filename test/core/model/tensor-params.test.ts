import { describe, expect, it } from "vitest";
import { countParams } from "../../../src/core/model/count-params.js";
import { parseConfig } from "../../../src/core/model/parse-config.js";
import { countTensorParams, type TensorInfo } from "../../../src/core/model/tensor-params.js";

/** Tensor names and shapes as transformers writes a Llama-style checkpoint (modeling_llama.py). */
function llamaTensors(c: {
  h: number;
  i: number;
  layers: number;
  heads: number;
  kv: number;
  vocab: number;
}): TensorInfo[] {
  const hd = c.h / c.heads;
  const tensors: TensorInfo[] = [
    { name: "model.embed_tokens.weight", dtype: "BF16", shape: [c.vocab, c.h] },
    { name: "model.norm.weight", dtype: "BF16", shape: [c.h] },
    { name: "lm_head.weight", dtype: "BF16", shape: [c.vocab, c.h] },
  ];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    tensors.push(
      { name: `${p}.self_attn.q_proj.weight`, dtype: "BF16", shape: [c.heads * hd, c.h] },
      { name: `${p}.self_attn.k_proj.weight`, dtype: "BF16", shape: [c.kv * hd, c.h] },
      { name: `${p}.self_attn.v_proj.weight`, dtype: "BF16", shape: [c.kv * hd, c.h] },
      { name: `${p}.self_attn.o_proj.weight`, dtype: "BF16", shape: [c.h, c.heads * hd] },
      { name: `${p}.mlp.gate_proj.weight`, dtype: "BF16", shape: [c.i, c.h] },
      { name: `${p}.mlp.up_proj.weight`, dtype: "BF16", shape: [c.i, c.h] },
      { name: `${p}.mlp.down_proj.weight`, dtype: "BF16", shape: [c.h, c.i] },
      { name: `${p}.input_layernorm.weight`, dtype: "BF16", shape: [c.h] },
      { name: `${p}.post_attention_layernorm.weight`, dtype: "BF16", shape: [c.h] },
    );
  }
  return tensors;
}

const SMALL = { h: 512, i: 1536, layers: 4, heads: 8, kv: 2, vocab: 1000 };
const SMALL_CONFIG = {
  model_type: "llama",
  hidden_size: SMALL.h,
  intermediate_size: SMALL.i,
  num_hidden_layers: SMALL.layers,
  num_attention_heads: SMALL.heads,
  num_key_value_heads: SMALL.kv,
  vocab_size: SMALL.vocab,
};

describe("countTensorParams", () => {
  it("agrees with the architecture count component by component for an unquantized checkpoint", () => {
    const exact = countTensorParams(llamaTensors(SMALL), { numLayers: SMALL.layers });
    const computed = countParams(parseConfig(SMALL_CONFIG).architecture);
    expect(exact.total).toBe(computed.total);
    expect(exact.components).toEqual(computed.components);
    expect(exact.byDtype).toEqual({ BF16: computed.total });
  });

  it("unpacks AWQ qweight int32 tensors and skips scales and zero points", () => {
    const tensors = llamaTensors(SMALL).flatMap((t): TensorInfo[] => {
      if (!/layers\.\d+\.(self_attn|mlp)\..*weight$/.test(t.name)) return [t];
      const [out, inp] = t.shape as [number, number];
      const base = t.name.replace(/\.weight$/, "");
      // AWQ GEMM layout: qweight [in, out/8] int32, qzeros [in/128, out/8] int32, scales [in/128, out] fp16
      return [
        { name: `${base}.qweight`, dtype: "I32", shape: [inp, out / 8] },
        { name: `${base}.qzeros`, dtype: "I32", shape: [Math.max(1, inp / 128), out / 8] },
        { name: `${base}.scales`, dtype: "F16", shape: [Math.max(1, inp / 128), out] },
      ];
    });
    const exact = countTensorParams(tensors, { numLayers: SMALL.layers, packedBits: 4 });
    expect(exact.total).toBe(countParams(parseConfig(SMALL_CONFIG).architecture).total);
  });

  it("puts layers past num_hidden_layers (DeepSeek MTP) apart from the total", () => {
    const tensors = llamaTensors({ ...SMALL, layers: SMALL.layers + 1 });
    const exact = countTensorParams(tensors, { numLayers: SMALL.layers });
    expect(exact.total).toBe(countParams(parseConfig(SMALL_CONFIG).architecture).total);
    expect(exact.mtp).toBeGreaterThan(0);
  });

  it("classifies experts, routers and shared experts of an MoE checkpoint", () => {
    const exact = countTensorParams(
      [
        { name: "model.layers.0.mlp.experts.0.gate_proj.weight", dtype: "BF16", shape: [64, 32] },
        { name: "model.layers.0.mlp.shared_experts.gate_proj.weight", dtype: "BF16", shape: [64, 32] },
        { name: "model.layers.0.mlp.gate.weight", dtype: "BF16", shape: [8, 32] },
        { name: "model.layers.0.mlp.gate.e_score_correction_bias", dtype: "F32", shape: [8] },
        { name: "model.layers.0.mlp.experts.gate_up_proj_blocks", dtype: "U8", shape: [8, 64, 2, 16] },
        { name: "model.layers.0.mlp.experts.gate_up_proj_scales", dtype: "U8", shape: [8, 64, 2] },
      ],
      { numLayers: 1 },
    );
    expect(exact.components.experts).toBe(64 * 32 + 8 * 64 * 2 * 16 * 2);
    expect(exact.components.sharedExperts).toBe(64 * 32);
    expect(exact.components.router).toBe(8 * 32 + 8);
  });
});
