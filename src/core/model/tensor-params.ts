import type { ParamComponents } from "./count-params.js";

/** A tensor as a safetensors header describes it. */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: readonly number[];
}

export interface TensorParamCount {
  total: number;
  components: ParamComponents;
  /** Tensors of layers at or past `numLayers` (DeepSeek MTP), not in `total`. */
  mtp: number;
  /** Parameters per storage dtype, after unpacking packed formats. */
  byDtype: Record<string, number>;
}

/** Quantization side tensors: scales, zero points, permutation indices. Not parameters. */
const AUXILIARY =
  /(?:^|[._])(?:scales?|weight_scale(?:_inv)?|input_scale|output_scale|k_scale|v_scale|qzeros|g_idx|weight_zero_point|weight_g_idx|weight_shape|zeros|absmax|quant_map|quant_state\.\w+|nested_\w+)$/;

/**
 * Packed weights hold several parameters per stored element: AWQ/GPTQ `qweight` and
 * compressed-tensors `weight_packed` pack 32/bits weights in an int32; mxfp4 `*_blocks` hold two
 * 4-bit weights per uint8; bitsandbytes 4-bit weights two per uint8.
 */
function unpackFactor(name: string, dtype: string, packedBits: number | null): number {
  if (/(?:qweight|weight_packed)$/.test(name) && dtype === "I32") return 32 / (packedBits ?? 4);
  if (/_blocks$/.test(name) && dtype === "U8") return 2;
  if (packedBits === 4 && dtype === "U8" && /weight$/.test(name)) return 2;
  return 1;
}

/**
 * Component of a tensor, from Hugging Face names (`model.layers.3.self_attn.q_proj.weight`) or
 * llama.cpp GGUF names (`blk.3.attn_q.weight`, `blk.3.ffn_gate_exps.weight`: llama.cpp
 * src/llama-arch.cpp LLM_TENSOR_NAMES).
 */
function classify(name: string): keyof ParamComponents {
  if (/(?:^|\.)(?:vision_tower|vision_model|visual|multi_modal_projector|mm_projector|vision_)/.test(name)) {
    return "vision";
  }
  if (/(?:^|\.)lm_head\./.test(name) || /^output\.weight$/.test(name)) return "lmHead";
  if (/embed_tokens|\.wte\.|tok_embeddings|word_embeddings|token_embd/.test(name)) return "embeddings";
  if (/shared_expert|_shexp\./.test(name)) return "sharedExperts";
  if (/\.experts\.|_exps\./.test(name)) return "experts";
  if (
    /\.(?:mlp|block_sparse_moe|feed_forward)\.(?:gate|router)\.|\.router\.|ffn_gate_inp|exp_probs_b/.test(
      name,
    )
  ) {
    return "router";
  }
  // GGUF layer norms: attn_norm / ffn_norm / post_*_norm (but attn_q_norm, attn_k_norm are attention)
  if (
    /\.(?:attn_norm|ffn_norm|post_attention_norm|post_ffw_norm|attn_post_norm|ffn_post_norm)\./.test(name)
  ) {
    return "norms";
  }
  // Attention modules next: q_norm / k_norm and MLA's latent norms live inside them.
  if (/\.(?:self_attn|linear_attn|cross_attn|attention|attn)\.|\.attn_|\.ssm_/.test(name)) return "attention";
  if (/norm/.test(name)) return "norms";
  return "mlp";
}

/**
 * Exact parameter counts from safetensors tensor shapes, by component. `numLayers` separates
 * MTP layers (DeepSeek V3 ships them as layer 61) from the model; `packedBits` is the weight bit
 * width of AWQ/GPTQ/compressed-tensors int-packed checkpoints.
 */
export function countTensorParams(
  tensors: readonly TensorInfo[],
  options: { numLayers: number; packedBits?: number | null },
): TensorParamCount {
  const components: ParamComponents = {
    embeddings: 0,
    attention: 0,
    mlp: 0,
    experts: 0,
    sharedExperts: 0,
    router: 0,
    norms: 0,
    lmHead: 0,
    vision: 0,
  };
  const byDtype: Record<string, number> = {};
  let mtp = 0;
  for (const tensor of tensors) {
    if (AUXILIARY.test(tensor.name)) continue;
    const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
    const params = elements * unpackFactor(tensor.name, tensor.dtype, options.packedBits ?? null);
    const layer = /(?:^|\.)(?:layers|blk)\.(\d+)\./.exec(tensor.name);
    const component = classify(tensor.name);
    if (layer && Number(layer[1]) >= options.numLayers && component !== "vision") {
      mtp += params;
      continue;
    }
    components[component] += params;
    byDtype[tensor.dtype] = (byDtype[tensor.dtype] ?? 0) + params;
  }
  const total = Object.values(components).reduce((sum, value) => sum + value, 0);
  return { total, components, mtp, byDtype };
}
