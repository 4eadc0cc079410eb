import { ServepilotError } from "../errors.js";
import type { Architecture, AttentionSpec, MoeSpec } from "./architecture.js";
import { withDefaults } from "./config-defaults.js";
import { type ConfigObject, ConfigReader, isConfigObject } from "./config-reader.js";
import { readAttentionKinds, readMlpKinds } from "./layer-pattern.js";
import { parseQuantization } from "./quantization.js";
import { readVision } from "./vision.js";

export interface ParsedModel {
  architecture: Architecture;
  /** Things the user should know (unknown model_type, unmodelled quantization...). */
  warnings: string[];
}

export interface ParseConfigOptions {
  /** How the config is named in messages: a path, or "catalog entry X". Default "config.json". */
  label?: string;
}

/** Text model families read with their own rules; anything else is read as a generic decoder. */
const KNOWN_TEXT_TYPES = new Set([
  "llama",
  "mistral",
  "mixtral",
  "qwen2",
  "qwen2_moe",
  "qwen3",
  "qwen3_moe",
  "qwen3_next",
  "gemma",
  "gemma2",
  "gemma3_text",
  "phi3",
  "phimoe",
  "deepseek_v2",
  "deepseek_v3",
  "gpt_oss",
  "llama4_text",
  "glm4_moe",
  "mllama_text_model",
]);

/** Wrapper model_type -> the text model_type it wraps when text_config does not say. */
const WRAPPER_TEXT_TYPES: Readonly<Record<string, string>> = {
  gemma3: "gemma3_text",
  llama4: "llama4_text",
  mllama: "mllama_text_model",
  llava: "llama",
  llava_next: "llama",
  mistral3: "mistral",
  qwen2_vl: "qwen2",
  qwen2_5_vl: "qwen2",
};

/** Aliases of text model types that share a family's rules. */
const TEXT_TYPE_ALIASES: Readonly<Record<string, string>> = {
  gemma3: "gemma3_text",
  llama4: "llama4_text",
  qwen2_vl_text: "qwen2",
  qwen2_5_vl_text: "qwen2",
  kimi_k2: "deepseek_v3",
};

const MOE_FAMILIES_WITH_SHARED_GATE = new Set(["qwen2_moe", "qwen3_next"]);

/** Upper bounds that catch garbage before it turns into absurd sizes. */
const LIMITS = { hidden: 1 << 20, layers: 10_000, heads: 1 << 14, vocab: 1 << 24, intermediate: 1 << 22 };

/**
 * Normalizes a Hugging Face config.json into an Architecture. Returns a result or throws a
 * ServepilotError (INVALID_MODEL_CONFIG) naming the field; never anything else (fast-check tested).
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): ParsedModel {
  const label = options.label ?? "config.json";
  if (!isConfigObject(input)) {
    throw new ServepilotError(
      "INVALID_MODEL_CONFIG",
      `${label}: must be a JSON object, got ${typeof input}`,
      {
        details: { file: label },
      },
    );
  }
  const warnings: string[] = [];
  const top = new ConfigReader(input, label);
  const topType = top.optionalString("model_type") ?? "";
  const textConfig = top.object("text_config");
  const isWrapper = topType in WRAPPER_TEXT_TYPES || (textConfig !== null && top.has("vision_config"));

  let textRaw: ConfigObject = input;
  let textPath = "";
  let textType = topType;
  if (isWrapper && textConfig) {
    textRaw = textConfig.raw;
    textPath = "text_config";
    textType = textConfig.optionalString("model_type") ?? WRAPPER_TEXT_TYPES[topType] ?? "";
  } else if (isWrapper) {
    textType = WRAPPER_TEXT_TYPES[topType] ?? topType;
  }
  const family = TEXT_TYPE_ALIASES[textType] ?? textType;
  const generic = !KNOWN_TEXT_TYPES.has(family);
  if (generic) {
    warnings.push(
      `${label}: model_type ${JSON.stringify(textType || null)} is not known to servepilot; read as a generic decoder (parameter and KV-cache figures may be off)`,
    );
  }
  const r = new ConfigReader(withDefaults(family, textRaw), label, textPath);

  const hiddenSize = boundedInt(r, "hidden_size", LIMITS.hidden, ["hidden_size", "n_embd", "d_model"]);
  const numLayers = boundedInt(r, "num_hidden_layers", LIMITS.layers, [
    "num_hidden_layers",
    "n_layer",
    "num_layers",
  ]);
  const vocabSize = boundedInt(r, "vocab_size", LIMITS.vocab, ["vocab_size", "padded_vocab_size"]);
  const attention = readAttention(family, r, hiddenSize);
  const moe = readMoe(family, r);
  const denseKey = family === "llama4_text" ? "intermediate_size_mlp" : "intermediate_size";
  const intermediateSize =
    r.has(denseKey) || !moe
      ? boundedInt(r, denseKey, LIMITS.intermediate, [denseKey, "ffn_dim", "n_inner"])
      : moe.expertIntermediateSize;
  const attentionKinds = readAttentionKinds(family, r, numLayers);
  const mlpKinds = readMlpKinds(family, r, numLayers, moe !== null);
  const layers = attentionKinds.map((kind, index) => ({
    index,
    attention: kind,
    mlp: mlpKinds[index] ?? "dense",
  }));

  const visionReader = top.object("vision_config");
  const vision = isWrapper && visionReader ? readVision(topType, visionReader, hiddenSize, top) : null;

  const quantReader =
    top.object("quantization_config") ?? top.object("compression_config") ?? r.object("quantization_config");
  const dtypeValue = top.raw.torch_dtype ?? top.raw.dtype ?? r.raw.torch_dtype ?? r.raw.dtype;

  const architecture: Architecture = {
    modelType: textType || topType,
    wrapperType: isWrapper ? topType : null,
    generic,
    architectures: top.stringArray("architectures") ?? [],
    hiddenSize,
    numLayers,
    vocabSize,
    intermediateSize,
    maxContext: r.optionalIntOneOf([
      "max_position_embeddings",
      "n_positions",
      "max_sequence_length",
      "seq_length",
    ]),
    tieWordEmbeddings: r.has("tie_word_embeddings")
      ? r.bool("tie_word_embeddings", false)
      : top.bool("tie_word_embeddings", false),
    dtype: typeof dtypeValue === "string" ? dtypeValue : null,
    attention,
    layers,
    mlpBias: r.bool("mlp_bias", false),
    mlpGated: true,
    moe,
    norm: {
      kind: family === "phimoe" ? "layer" : "rms",
      perLayer: family === "gemma2" || family === "gemma3_text" ? 4 : 2,
    },
    vision,
    mtpLayers: r.optionalIntOneOf(["num_nextn_predict_layers", "mtp_num_hidden_layers"], { min: 0 }) ?? 0,
    quantization: parseQuantization(quantReader, warnings),
  };
  return { architecture, warnings };
}

function boundedInt(r: ConfigReader, name: string, max: number, keys: readonly string[]): number {
  const key = r.firstKey(keys) ?? name;
  const value = r.int(key);
  if (value > max) r.fail(key, `a positive integer <= ${max}`, value);
  return value;
}

function readAttention(family: string, r: ConfigReader, hiddenSize: number): AttentionSpec {
  const numHeads = boundedInt(r, "num_attention_heads", LIMITS.heads, [
    "num_attention_heads",
    "n_head",
    "num_heads",
  ]);
  const isMla = family === "deepseek_v2" || family === "deepseek_v3";
  const numKvHeads = isMla
    ? numHeads
    : (r.optionalIntOneOf(["num_key_value_heads", "num_kv_heads"]) ?? numHeads);
  if (numKvHeads > numHeads || numHeads % numKvHeads !== 0) {
    r.fail("num_key_value_heads", `a divisor of num_attention_heads (${numHeads})`, numKvHeads);
  }
  const mla = isMla
    ? {
        kvLoraRank: r.int("kv_lora_rank"),
        qLoraRank: r.optionalInt("q_lora_rank"),
        qkNopeHeadDim: r.int("qk_nope_head_dim"),
        qkRopeHeadDim: r.int("qk_rope_head_dim"),
        vHeadDim: r.int("v_head_dim"),
      }
    : null;
  let headDim: number;
  if (mla) headDim = mla.qkNopeHeadDim + mla.qkRopeHeadDim;
  else if (r.has("head_dim")) headDim = r.int("head_dim");
  else if (hiddenSize % numHeads === 0) headDim = hiddenSize / numHeads;
  else
    r.fail(
      "num_attention_heads",
      `a divisor of hidden_size (${hiddenSize}) when head_dim is not given`,
      numHeads,
    );

  const attentionBias = r.bool("attention_bias", false);
  const qwen2Family = family === "qwen2" || family === "qwen2_moe";
  const linear =
    family === "qwen3_next"
      ? {
          numKeyHeads: r.int("linear_num_key_heads"),
          numValueHeads: r.int("linear_num_value_heads"),
          keyHeadDim: r.int("linear_key_head_dim"),
          valueHeadDim: r.int("linear_value_head_dim"),
          convKernelSize: r.int("linear_conv_kernel_dim"),
        }
      : null;
  return {
    numHeads,
    numKvHeads,
    headDim,
    vHeadDim: mla ? mla.vHeadDim : headDim,
    // Qwen2 hard-codes q/k/v biases; GLM-4.5's attention_bias covers q/k/v only; gpt-oss has all.
    qkvBias: qwen2Family || attentionBias || family === "gpt_oss",
    outputBias: family === "gpt_oss" || (attentionBias && family !== "glm4_moe" && !qwen2Family),
    qkNorm:
      family === "qwen3" ||
      family === "qwen3_moe" ||
      family === "qwen3_next" ||
      family === "gemma3_text" ||
      (family === "glm4_moe" && r.bool("use_qk_norm", false)),
    sinks: family === "gpt_oss",
    outputGate: family === "qwen3_next",
    slidingWindow: r.optionalInt("sliding_window"),
    chunkSize: family === "llama4_text" ? r.optionalInt("attention_chunk_size") : null,
    mla,
    linear,
  };
}

function readMoe(family: string, r: ConfigReader): MoeSpec | null {
  const numExperts =
    r.optionalIntOneOf(["n_routed_experts", "num_local_experts", "num_experts"], { min: 0 }) ?? 0;
  if (numExperts === 0) return null;
  const expertsPerToken = r.intOneOf(["num_experts_per_tok", "experts_per_token", "top_k"]);
  if (expertsPerToken > numExperts) {
    r.fail("num_experts_per_tok", `at most the number of experts (${numExperts})`, expertsPerToken);
  }
  const expertIntermediateSize = boundedInt(r, "moe_intermediate_size", LIMITS.intermediate, [
    "moe_intermediate_size",
    "intermediate_size",
  ]);
  let numSharedExperts = r.optionalInt("n_shared_experts", { min: 0 }) ?? 0;
  let sharedIntermediateSize = numSharedExperts * expertIntermediateSize;
  if (MOE_FAMILIES_WITH_SHARED_GATE.has(family)) {
    sharedIntermediateSize = r.optionalInt("shared_expert_intermediate_size", { min: 0 }) ?? 0;
    numSharedExperts = sharedIntermediateSize > 0 ? 1 : 0;
  } else if (family === "llama4_text") {
    numSharedExperts = 1;
    sharedIntermediateSize = expertIntermediateSize;
  }
  return {
    numExperts,
    expertsPerToken,
    expertIntermediateSize,
    numSharedExperts,
    sharedIntermediateSize,
    sharedExpertGate: MOE_FAMILIES_WITH_SHARED_GATE.has(family) && numSharedExperts > 0,
    routerBias: family === "gpt_oss",
    routerCorrectionBias:
      family === "glm4_moe" || (family === "deepseek_v3" && r.optionalString("topk_method") !== "greedy"),
    expertBias: family === "gpt_oss",
  };
}
