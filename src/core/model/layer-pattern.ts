import type { AttentionKind, MlpKind } from "./architecture.js";
import type { ConfigReader } from "./config-reader.js";

const LAYER_TYPE_NAMES: Readonly<Record<string, AttentionKind>> = {
  full_attention: "full",
  sliding_attention: "sliding",
  chunked_attention: "chunked",
  linear_attention: "linear",
};

/**
 * Attention kind of every decoder layer. An explicit `layer_types` list wins (newer configs of
 * gpt-oss, Gemma 3, Qwen3-Next carry one); otherwise the family's rule from its transformers
 * modeling file: Gemma 2 alternates sliding/full starting with sliding; Gemma 3 has
 * `sliding_window_pattern - 1` sliding layers then one global; gpt-oss alternates like Gemma 2;
 * Qwen3-Next puts full attention every `full_attention_interval` layers; Llama 4 marks NoPE
 * (global) layers with 0 in `no_rope_layers`, the rest use chunked local attention; Qwen2 with
 * `use_sliding_window` slides from layer `max_window_layers` on; Mistral-style configs with a
 * `sliding_window` slide everywhere.
 */
export function readAttentionKinds(family: string, r: ConfigReader, numLayers: number): AttentionKind[] {
  const layerTypes = r.stringArray("layer_types");
  if (layerTypes) {
    if (layerTypes.length < numLayers) {
      r.fail("layer_types", `a list of ${numLayers} layer types (one per num_hidden_layers)`, layerTypes);
    }
    return layerTypes.slice(0, numLayers).map((name) => {
      const kind = LAYER_TYPE_NAMES[name];
      if (!kind) r.fail("layer_types", `entries among ${Object.keys(LAYER_TYPE_NAMES).join(", ")}`, name);
      return kind;
    });
  }
  const indices = Array.from({ length: numLayers }, (_, i) => i);
  const sliding = r.optionalInt("sliding_window");
  switch (family) {
    case "deepseek_v2":
    case "deepseek_v3":
      return indices.map(() => "mla");
    case "gemma2":
    case "gpt_oss":
      return indices.map((i) => (i % 2 === 0 ? "sliding" : "full"));
    case "gemma3_text": {
      const pattern = r.optionalInt("sliding_window_pattern") ?? 6;
      return indices.map((i) => ((i + 1) % pattern !== 0 ? "sliding" : "full"));
    }
    case "qwen3_next": {
      const interval = r.optionalInt("full_attention_interval") ?? 4;
      return indices.map((i) => ((i + 1) % interval === 0 ? "full" : "linear"));
    }
    case "llama4_text": {
      if (!r.has("attention_chunk_size")) return indices.map(() => "full");
      const noRope = r.intArray("no_rope_layers");
      if (noRope && noRope.length >= numLayers)
        return indices.map((i) => (noRope[i] === 0 ? "full" : "chunked"));
      return indices.map((i) => ((i + 1) % 4 === 0 ? "full" : "chunked"));
    }
    case "mllama_text_model": {
      const cross = new Set(r.intArray("cross_attention_layers") ?? []);
      return indices.map((i) => (cross.has(i) ? "cross" : "full"));
    }
    case "qwen2":
    case "qwen2_moe":
    case "qwen3":
    case "qwen3_moe": {
      if (!r.bool("use_sliding_window", false) || sliding === null) return indices.map(() => "full");
      const from = r.optionalInt("max_window_layers", { min: 0 }) ?? 0;
      return indices.map((i) => (i >= from ? "sliding" : "full"));
    }
    default:
      return indices.map(() => (sliding === null ? "full" : "sliding"));
  }
}

/** Dense or MoE MLP per layer, following each family's placement rule. */
export function readMlpKinds(
  family: string,
  r: ConfigReader,
  numLayers: number,
  hasExperts: boolean,
): MlpKind[] {
  const indices = Array.from({ length: numLayers }, (_, i) => i);
  if (!hasExperts) return indices.map(() => "dense");
  switch (family) {
    case "qwen2_moe":
    case "qwen3_moe":
    case "qwen3_next": {
      const step = r.optionalInt("decoder_sparse_step") ?? 1;
      const denseOnly = new Set(r.intArray("mlp_only_layers") ?? []);
      return indices.map((i) => (!denseOnly.has(i) && (i + 1) % step === 0 ? "moe" : "dense"));
    }
    case "deepseek_v2":
    case "deepseek_v3":
    case "glm4_moe": {
      const firstDense = r.optionalInt("first_k_dense_replace", { min: 0 }) ?? 0;
      const freq = r.optionalInt("moe_layer_freq") ?? 1;
      return indices.map((i) => (i >= firstDense && i % freq === 0 ? "moe" : "dense"));
    }
    case "llama4_text": {
      const moeLayers = r.intArray("moe_layers");
      if (moeLayers) {
        const set = new Set(moeLayers);
        return indices.map((i) => (set.has(i) ? "moe" : "dense"));
      }
      const step = r.optionalInt("interleave_moe_layer_step") ?? 1;
      return indices.map((i) => ((i + 1) % step === 0 ? "moe" : "dense"));
    }
    default:
      return indices.map(() => "moe");
  }
}
