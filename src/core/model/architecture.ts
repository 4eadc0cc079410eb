/**
 * The normalized view of a model that the planner works on. Built from a Hugging Face config.json
 * (see parse-config.ts), never by hand: every field here has one reader.
 */

/** How a layer attends. Drives the KV-cache page layout (DESIGN.md "Core concepts"). */
export type AttentionKind =
  /** Standard (grouped-query) attention over the whole context. */
  | "full"
  /** Sliding-window attention: KV kept for the last `slidingWindow` tokens only. */
  | "sliding"
  /** Chunked local attention (Llama 4): attends within chunks of `chunkSize` tokens. */
  | "chunked"
  /** Multi-head latent attention (DeepSeek V2/V3, Kimi K2): one compressed latent per token. */
  | "mla"
  /** Linear attention (Qwen3-Next Gated DeltaNet): a fixed-size recurrent state per sequence. */
  | "linear"
  /** Cross-attention to image tokens (mllama): no KV for generated text tokens. */
  | "cross";

export type MlpKind = "dense" | "moe";

export interface LayerSpec {
  index: number;
  attention: AttentionKind;
  mlp: MlpKind;
}

export interface MlaSpec {
  kvLoraRank: number;
  /** null when queries are projected directly (DeepSeek-V2-Lite). */
  qLoraRank: number | null;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
}

export interface LinearAttentionSpec {
  numKeyHeads: number;
  numValueHeads: number;
  keyHeadDim: number;
  valueHeadDim: number;
  convKernelSize: number;
}

export interface AttentionSpec {
  numHeads: number;
  numKvHeads: number;
  /** Query/key head dimension (explicit `head_dim` wins over hidden / heads). */
  headDim: number;
  /** Value head dimension (differs from headDim only for MLA). */
  vHeadDim: number;
  qkvBias: boolean;
  outputBias: boolean;
  /** Per-head RMSNorm on queries and keys (Qwen3, Gemma 3), with weights. */
  qkNorm: boolean;
  /** Learned attention sinks, one per head (gpt-oss). */
  sinks: boolean;
  /** Queries carry an output gate (Qwen3-Next full-attention layers): q_proj is twice as wide. */
  outputGate: boolean;
  slidingWindow: number | null;
  chunkSize: number | null;
  mla: MlaSpec | null;
  linear: LinearAttentionSpec | null;
}

export interface MoeSpec {
  numExperts: number;
  expertsPerToken: number;
  expertIntermediateSize: number;
  numSharedExperts: number;
  /** Intermediate size of the shared-expert MLP (all shared experts together). */
  sharedIntermediateSize: number;
  /** A sigmoid gate on the shared expert output (Qwen2-MoE, Qwen3-Next): one H-vector. */
  sharedExpertGate: boolean;
  routerBias: boolean;
  /** DeepSeek V3 / GLM-4.5 "noaux_tc": a per-expert score-correction bias. */
  routerCorrectionBias: boolean;
  expertBias: boolean;
}

export interface VisionSpec {
  /** Which tower layout the counts follow. */
  kind: "siglip" | "clip" | "qwen2-vl" | "qwen2.5-vl" | "mllama" | "llama4" | "generic-vit";
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  patchSize: number;
  imageSize: number | null;
  /** Parameters of the tower plus its projector into the language model. */
  params: number;
}

export interface QuantizationSpec {
  /** The checkpoint's quant_method: awq, gptq, compressed-tensors, fp8, mxfp4, bitsandbytes, gguf... */
  method: string;
  /** Short scheme name: "w4a16", "w8a8-int8", "w8a8-fp8", "fp8-block", "mxfp4", "nf4", ... */
  scheme: string;
  weightBits: number;
  /** null when scales are per channel / per tensor. */
  groupSize: number | null;
  /** Bits of activations for W8A8-style schemes; null when activations stay 16-bit. */
  activationBits: number | null;
  zeroPoint: boolean;
  /** Weight storage cost including scales and zero points, in bytes per quantized weight. */
  bytesPerWeight: number;
  /** Module name patterns the checkpoint leaves unquantized (beyond embeddings / norms / lm_head). */
  unquantizedModules: string[];
  /** Which parts of the model are quantized ("linear" = all linear layers, "experts" = MoE experts only). */
  appliesTo: "linear" | "experts";
}

export type NormKind = "rms" | "layer";

export interface Architecture {
  /** model_type as written (text model's, for wrappers). */
  modelType: string;
  /** The wrapper's model_type for multimodal models (e.g. "gemma3" around "gemma3_text"), else null. */
  wrapperType: string | null;
  /** true when model_type was not recognized and the generic decoder reading was used. */
  generic: boolean;
  architectures: string[];
  hiddenSize: number;
  numLayers: number;
  vocabSize: number;
  intermediateSize: number;
  maxContext: number | null;
  tieWordEmbeddings: boolean;
  /** Checkpoint dtype: "bfloat16", "float16", "float32"; null when config.json does not say. */
  dtype: string | null;
  attention: AttentionSpec;
  layers: LayerSpec[];
  /** Bias on the dense MLP projections. */
  mlpBias: boolean;
  /** Gated (SwiGLU/GeGLU: gate+up+down) or plain (fc1+fc2) dense MLP. */
  mlpGated: boolean;
  moe: MoeSpec | null;
  norm: { kind: NormKind; perLayer: number };
  vision: VisionSpec | null;
  /** Multi-token-prediction layers shipped with the checkpoint (not part of the published total). */
  mtpLayers: number;
  quantization: QuantizationSpec | null;
}
