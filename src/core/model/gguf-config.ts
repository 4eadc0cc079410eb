import { ServepilotError } from "../errors.js";

/**
 * GGUF metadata -> a Hugging Face config.json-shaped object, so GGUF models go through the same
 * parser (parse-config.ts) as safetensors checkpoints. Key names follow llama.cpp
 * (gguf-py/gguf/constants.py `Keys`, https://github.com/ggml-org/llama.cpp/blob/0024aa7417efd50a7c2a79e049dfbbbceb0beaaf/gguf-py/gguf/constants.py)
 * and the inverse of what convert_hf_to_gguf.py writes for each HF field; the HF names follow
 * transformers' own GGUF loader (src/transformers/integrations/ggml.py GGUF_CONFIG_MAPPING).
 */

/** The structural part of runtime's GgufSummary this module reads (core does not import runtime). */
export interface GgufConfigSource {
  architecture: string;
  metadata: Readonly<Record<string, unknown>>;
  tensors: ReadonlyArray<{ name: string; shape: readonly number[]; ggmlType: string }>;
}

/** general.architecture -> HF model_type (llama.cpp MODEL_ARCH_NAMES -> transformers model types). */
const MODEL_TYPES: Readonly<Record<string, string>> = {
  llama: "llama",
  llama4: "llama4",
  mistral3: "mistral",
  qwen2: "qwen2",
  qwen2moe: "qwen2_moe",
  qwen3: "qwen3",
  qwen3moe: "qwen3_moe",
  qwen3next: "qwen3_next",
  gemma: "gemma",
  gemma2: "gemma2",
  gemma3: "gemma3",
  phi3: "phi3",
  phimoe: "phimoe",
  deepseek: "deepseek",
  "gpt-oss": "gpt_oss",
  glm4: "glm4",
  glm4moe: "glm4_moe",
  "command-r": "cohere",
  cohere2: "cohere2",
  olmo2: "olmo2",
  olmoe: "olmoe",
  granite: "granite",
  granitemoe: "granitemoe",
  starcoder2: "starcoder2",
  falcon: "falcon",
  smollm3: "smollm3",
};

/** HF key holding the routed expert count, per model_type (default "num_experts"). */
const EXPERT_COUNT_KEYS: Readonly<Record<string, string>> = {
  mixtral: "num_local_experts",
  phimoe: "num_local_experts",
  gpt_oss: "num_local_experts",
  llama4: "num_local_experts",
  granitemoe: "num_local_experts",
  deepseek: "n_routed_experts",
  deepseek_v2: "n_routed_experts",
  deepseek_v3: "n_routed_experts",
  glm4_moe: "n_routed_experts",
};

/** Families whose experts' width is `intermediate_size` (no separate moe_intermediate_size). */
const EXPERT_WIDTH_IS_INTERMEDIATE = new Set(["mixtral", "phimoe", "gpt_oss", "olmoe", "granitemoe"]);
/** Families with n_shared_experts / first_k_dense_replace (DeepSeek-style MoE). */
const DEEPSEEK_STYLE_MOE = new Set(["deepseek", "deepseek_v2", "deepseek_v3", "glm4_moe"]);
/** Families with one gated shared expert sized by shared_expert_intermediate_size. */
const QWEN_STYLE_SHARED = new Set(["qwen2_moe", "qwen3_next"]);

/** general.file_type values of unquantized files (llama.cpp LlamaFileType) -> torch_dtype. */
const UNQUANTIZED_FILE_TYPES: Readonly<Record<number, string>> = {
  0: "float32",
  1: "float16",
  32: "bfloat16",
};

/** ExpertGatingFuncType in constants.py. */
const GATING_FUNCS: Readonly<Record<number, string>> = { 1: "softmax", 2: "sigmoid" };

class GgufMetadataReader {
  constructor(
    private readonly metadata: Readonly<Record<string, unknown>>,
    private readonly arch: string,
  ) {}

  private fail(key: string, expected: string, got: unknown): never {
    const shown =
      typeof got === "string" ? JSON.stringify(got) : Array.isArray(got) ? "an array" : String(got);
    throw new ServepilotError(
      "INVALID_MODEL_CONFIG",
      `GGUF metadata: ${key} must be ${expected}, got ${shown}`,
      {
        details: { field: key, expected, received: got ?? null },
      },
    );
  }

  raw(key: string): unknown {
    return this.metadata[key.replace("{arch}", this.arch)];
  }

  /** A number, or the largest of a per-layer array; null when absent. */
  number(key: string): number | null {
    const value = this.raw(key);
    if (value === undefined || value === null) return null;
    if (typeof value === "bigint") return Number(value);
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number")) {
      return Math.max(...(value as number[]));
    }
    return this.fail(key.replace("{arch}", this.arch), "a number", value);
  }

  int(key: string, required: true): number;
  int(key: string, required?: false): number | null;
  int(key: string, required = false): number | null {
    const value = this.number(key);
    const name = key.replace("{arch}", this.arch);
    if (value === null) return required ? this.fail(name, "a positive integer", undefined) : null;
    if (!Number.isSafeInteger(value) || value < 0) this.fail(name, "a non-negative integer", value);
    if (required && value === 0) this.fail(name, "a positive integer", value);
    return value;
  }

  /** A float32 value as the short decimal it was written from (1e-5, not 9.999999747378752e-6). */
  float(key: string): number | null {
    const value = this.number(key);
    return value === null ? null : shortestFloat32(value);
  }

  string(key: string): string | null {
    const value = this.raw(key);
    return typeof value === "string" ? value : null;
  }

  bool(key: string): boolean | null {
    const value = this.raw(key);
    return typeof value === "boolean" ? value : null;
  }

  /** Length of an array value, whether kept whole or summarized as { omitted: "array", length }. */
  arrayLength(key: string): number | null {
    const value = this.raw(key);
    if (Array.isArray(value)) return value.length;
    if (typeof value === "object" && value !== null && (value as { omitted?: unknown }).omitted === "array") {
      const length = (value as { length?: unknown }).length;
      return typeof length === "number" ? length : null;
    }
    return null;
  }
}

/** Shortest decimal that reads back as the same float32. */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === Math.fround(value)) return candidate;
  }
  return value;
}

function setIfPresent(config: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== null && value !== undefined) config[key] = value;
}

function resolveModelType(arch: string, m: GgufMetadataReader, tensorNames: readonly string[]): string {
  if (arch === "llama") {
    if ((m.int("{arch}.expert_count") ?? 0) > 0) return "mixtral";
    const name = `${m.string("general.basename") ?? ""} ${m.string("general.name") ?? ""}`;
    return /mistral/i.test(name) ? "mistral" : "llama";
  }
  if (arch === "deepseek2") {
    // V3 / R1 / Kimi K2 route with sigmoid scores and a correction bias (exp_probs_b); V2 with softmax.
    const sigmoid = m.int("{arch}.expert_gating_func") === 2;
    return sigmoid || tensorNames.some((n) => n.includes("exp_probs_b")) ? "deepseek_v3" : "deepseek_v2";
  }
  return MODEL_TYPES[arch] ?? arch.replaceAll("-", "_");
}

function readVocabSize(m: GgufMetadataReader, tensors: GgufConfigSource["tensors"]): number | null {
  const declared = m.int("{arch}.vocab_size") ?? m.arrayLength("tokenizer.ggml.tokens");
  if (declared !== null) return declared;
  // token_embd / output are [n_embd, n_vocab] in GGUF order.
  const embedding = tensors.find((t) => t.name === "token_embd.weight" || t.name === "output.weight");
  return embedding?.shape[1] ?? null;
}

function readMla(config: Record<string, unknown>, m: GgufMetadataReader, modelType: string): void {
  const ropeDim = m.int("{arch}.rope.dimension_count", true);
  // Since llama.cpp stored MLA as MQA (2025), key/value_length hold the compressed sizes and the
  // per-head sizes moved to key_length_mla / value_length_mla; older files only have the latter sizes.
  const keyLength = m.int("{arch}.attention.key_length_mla") ?? m.int("{arch}.attention.key_length", true);
  const valueLength =
    m.int("{arch}.attention.value_length_mla") ?? m.int("{arch}.attention.value_length", true);
  config.num_key_value_heads = config.num_attention_heads;
  config.q_lora_rank = m.int("{arch}.attention.q_lora_rank");
  config.kv_lora_rank = m.int("{arch}.attention.kv_lora_rank", true);
  config.qk_rope_head_dim = ropeDim;
  config.qk_nope_head_dim = keyLength - ropeDim;
  config.v_head_dim = valueLength;
  config.moe_layer_freq = 1;
  const gating = GATING_FUNCS[m.int("{arch}.expert_gating_func") ?? 0];
  setIfPresent(config, "scoring_func", gating ?? (modelType === "deepseek_v2" ? "softmax" : null));
  if (modelType === "deepseek_v3") config.topk_method = "noaux_tc";
  setIfPresent(config, "n_group", m.int("{arch}.expert_group_count"));
  setIfPresent(config, "topk_group", m.int("{arch}.expert_group_used_count"));
  setIfPresent(config, "routed_scaling_factor", m.float("{arch}.expert_weights_scale"));
  setIfPresent(config, "norm_topk_prob", m.bool("{arch}.expert_weights_norm"));
}

function readMoe(config: Record<string, unknown>, m: GgufMetadataReader, modelType: string): void {
  const experts = m.int("{arch}.expert_count") ?? 0;
  if (experts === 0) return;
  config[EXPERT_COUNT_KEYS[modelType] ?? "num_experts"] = experts;
  setIfPresent(config, "num_experts_per_tok", m.int("{arch}.expert_used_count"));
  const expertWidth = m.int("{arch}.expert_feed_forward_length");
  if (EXPERT_WIDTH_IS_INTERMEDIATE.has(modelType)) setIfPresent(config, "intermediate_size", expertWidth);
  else setIfPresent(config, "moe_intermediate_size", expertWidth);
  if (DEEPSEEK_STYLE_MOE.has(modelType)) {
    config.n_shared_experts = m.int("{arch}.expert_shared_count") ?? 0;
    config.first_k_dense_replace = m.int("{arch}.leading_dense_block_count") ?? 0;
  }
  if (QWEN_STYLE_SHARED.has(modelType)) {
    config.shared_expert_intermediate_size = m.int("{arch}.expert_shared_feed_forward_length") ?? 0;
  }
}

function readAttentionPattern(config: Record<string, unknown>, m: GgufMetadataReader, layers: number): void {
  setIfPresent(config, "sliding_window", m.int("{arch}.attention.sliding_window"));
  const pattern = m.raw("{arch}.attention.sliding_window_pattern");
  if (typeof pattern === "number") config.sliding_window_pattern = pattern;
  else if (
    Array.isArray(pattern) &&
    pattern.length >= layers &&
    pattern.every((v) => typeof v === "boolean")
  ) {
    config.layer_types = pattern
      .slice(0, layers)
      .map((swa) => (swa ? "sliding_attention" : "full_attention"));
  }
}

function readRopeScaling(m: GgufMetadataReader, modelType: string): Record<string, unknown> | null {
  const type = m.string("{arch}.rope.scaling.type");
  if (type === null || type === "none") return null;
  const scaling: Record<string, unknown> = { rope_type: type, type };
  setIfPresent(scaling, "factor", m.float("{arch}.rope.scaling.factor"));
  setIfPresent(
    scaling,
    "original_max_position_embeddings",
    m.int("{arch}.rope.scaling.original_context_length"),
  );
  const logMul = m.float("{arch}.rope.scaling.yarn_log_multiplier");
  // DeepSeek's converter writes 0.1 * mscale_all_dim (convert_hf_to_gguf.py DeepseekV2Model).
  if (logMul !== null && modelType.startsWith("deepseek"))
    scaling.mscale_all_dim = shortestFloat32(logMul / 0.1);
  return scaling;
}

/** Turns GGUF metadata into an HF-config-like object with HF key names. */
export function ggufToConfig(summary: GgufConfigSource): Record<string, unknown> {
  const arch = summary.architecture;
  const m = new GgufMetadataReader(summary.metadata, arch);
  const tensorNames = summary.tensors.map((t) => t.name);
  const modelType = resolveModelType(arch, m, tensorNames);

  const blocks = m.int("{arch}.block_count", true);
  const nextn = m.int("{arch}.nextn_predict_layers") ?? 0;
  // GLM-4.5 files count the MTP layer(s) in block_count (convert_hf_to_gguf.py Glm4MoeModel).
  const mtpInBlocks = arch === "glm4moe" || tensorNames.some((n) => n.includes(".nextn."));
  const layers = mtpInBlocks ? blocks - nextn : blocks;

  const config: Record<string, unknown> = { model_type: modelType };
  config.num_hidden_layers = layers;
  config.hidden_size = m.int("{arch}.embedding_length", true);
  setIfPresent(config, "intermediate_size", m.int("{arch}.feed_forward_length"));
  config.num_attention_heads = m.int("{arch}.attention.head_count", true);
  setIfPresent(config, "num_key_value_heads", m.int("{arch}.attention.head_count_kv"));
  setIfPresent(config, "max_position_embeddings", m.int("{arch}.context_length"));
  setIfPresent(config, "vocab_size", readVocabSize(m, summary.tensors));
  setIfPresent(config, "rope_theta", m.float("{arch}.rope.freq_base"));
  setIfPresent(config, "rope_scaling", readRopeScaling(m, modelType));
  setIfPresent(config, "rms_norm_eps", m.float("{arch}.attention.layer_norm_rms_epsilon"));
  setIfPresent(config, "layer_norm_eps", m.float("{arch}.attention.layer_norm_epsilon"));
  setIfPresent(config, "attn_logit_softcapping", m.float("{arch}.attn_logit_softcapping"));
  setIfPresent(config, "final_logit_softcapping", m.float("{arch}.final_logit_softcapping"));
  if (nextn > 0) config.num_nextn_predict_layers = nextn;

  if (modelType === "deepseek_v2" || modelType === "deepseek_v3") readMla(config, m, modelType);
  else setIfPresent(config, "head_dim", m.int("{arch}.attention.key_length"));
  readMoe(config, m, modelType);
  readAttentionPattern(config, m, layers);

  // llama.cpp drops output.weight when the head is tied to the embedding.
  if (summary.tensors.length > 0) config.tie_word_embeddings = !tensorNames.includes("output.weight");
  setIfPresent(config, "torch_dtype", UNQUANTIZED_FILE_TYPES[m.int("general.file_type") ?? -1]);
  setIfPresent(config, "bos_token_id", m.int("tokenizer.ggml.bos_token_id"));
  setIfPresent(config, "eos_token_id", m.int("tokenizer.ggml.eos_token_id"));
  return config;
}

/**
 * Block size (weights per block) and type size (bytes per block) of each ggml type, from
 * llama.cpp's GGML_QUANT_SIZES (gguf-py/gguf/constants.py at the commit cited above).
 */
export const GGML_TYPE_SIZES: Readonly<Record<string, { blockSize: number; typeSize: number }>> = {
  F32: { blockSize: 1, typeSize: 4 },
  F16: { blockSize: 1, typeSize: 2 },
  BF16: { blockSize: 1, typeSize: 2 },
  F64: { blockSize: 1, typeSize: 8 },
  I8: { blockSize: 1, typeSize: 1 },
  I16: { blockSize: 1, typeSize: 2 },
  I32: { blockSize: 1, typeSize: 4 },
  I64: { blockSize: 1, typeSize: 8 },
  Q4_0: { blockSize: 32, typeSize: 18 },
  Q4_1: { blockSize: 32, typeSize: 20 },
  Q5_0: { blockSize: 32, typeSize: 22 },
  Q5_1: { blockSize: 32, typeSize: 24 },
  Q8_0: { blockSize: 32, typeSize: 34 },
  Q8_1: { blockSize: 32, typeSize: 40 },
  Q2_K: { blockSize: 256, typeSize: 84 },
  Q3_K: { blockSize: 256, typeSize: 110 },
  Q4_K: { blockSize: 256, typeSize: 144 },
  Q5_K: { blockSize: 256, typeSize: 176 },
  Q6_K: { blockSize: 256, typeSize: 210 },
  Q8_K: { blockSize: 256, typeSize: 292 },
  IQ2_XXS: { blockSize: 256, typeSize: 66 },
  IQ2_XS: { blockSize: 256, typeSize: 74 },
  IQ2_S: { blockSize: 256, typeSize: 82 },
  IQ3_XXS: { blockSize: 256, typeSize: 98 },
  IQ3_S: { blockSize: 256, typeSize: 110 },
  IQ1_S: { blockSize: 256, typeSize: 50 },
  IQ1_M: { blockSize: 256, typeSize: 56 },
  IQ4_NL: { blockSize: 32, typeSize: 18 },
  IQ4_XS: { blockSize: 256, typeSize: 136 },
  TQ1_0: { blockSize: 256, typeSize: 54 },
  TQ2_0: { blockSize: 256, typeSize: 66 },
  MXFP4: { blockSize: 32, typeSize: 17 },
  NVFP4: { blockSize: 64, typeSize: 36 },
  Q1_0: { blockSize: 128, typeSize: 18 },
};

/**
 * Bytes the tensors occupy in the file: each row of ne[0] weights is stored as whole blocks.
 * Null when a tensor has a ggml type missing from GGML_TYPE_SIZES (the size is then unknown).
 */
export function ggufTensorBytes(
  tensors: ReadonlyArray<{ shape: readonly number[]; ggmlType: string }>,
): number | null {
  let total = 0;
  for (const tensor of tensors) {
    const size = GGML_TYPE_SIZES[tensor.ggmlType];
    if (!size) return null;
    const [rowLength = 1, ...rest] = tensor.shape;
    const rows = rest.reduce((product, dim) => product * dim, 1);
    total += Math.ceil(rowLength / size.blockSize) * size.typeSize * rows;
  }
  return total;
}
