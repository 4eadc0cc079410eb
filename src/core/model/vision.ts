import type { VisionSpec } from "./architecture.js";
import { withDefaults } from "./config-defaults.js";
import { ConfigReader } from "./config-reader.js";

/** One ViT encoder block: attention (q, k, v, o), MLP, and its norms. */
function encoderLayerParams(
  h: number,
  intermediate: number,
  options: { bias: boolean; gated: boolean; layerNorm: boolean },
) {
  const attention = 4 * h * h + (options.bias ? 4 * h : 0);
  const mlp = options.gated
    ? 3 * h * intermediate + (options.bias ? 2 * intermediate + h : 0)
    : 2 * h * intermediate + (options.bias ? intermediate + h : 0);
  const norms = 2 * (options.layerNorm ? 2 * h : h);
  return attention + mlp + norms;
}

function patchCount(imageSize: number, patchSize: number): number {
  return Math.floor(imageSize / patchSize) ** 2;
}

/**
 * The vision tower and projector of a vision-language wrapper, counted the way the checkpoint
 * stores them. Layouts follow transformers' modeling files: siglip (Gemma 3), clip + llava
 * projector (LLaVA), qwen2_vl / qwen2_5_vl (Qwen2-VL, Qwen2.5-VL), mllama, llama4.
 */
export function readVision(
  wrapperType: string,
  vision: ConfigReader,
  textHidden: number,
  wrapper: ConfigReader,
): VisionSpec {
  const visionType = vision.optionalString("model_type") ?? "";
  switch (wrapperType) {
    case "gemma3":
    case "llava":
    case "llava_next":
    case "mistral3":
      return readSiglipOrClip(wrapperType, visionType, vision, textHidden, wrapper);
    case "qwen2_vl":
      return readQwen2Vl(vision);
    case "qwen2_5_vl":
      return readQwen25Vl(vision);
    case "mllama":
      return readMllama(vision, textHidden);
    case "llama4":
      return readLlama4(vision, textHidden);
    default:
      return readSiglipOrClip(wrapperType, visionType, vision, textHidden, wrapper);
  }
}

function readSiglipOrClip(
  wrapperType: string,
  visionType: string,
  raw: ConfigReader,
  textHidden: number,
  wrapper: ConfigReader,
): VisionSpec {
  const isClip =
    visionType.startsWith("clip") || (wrapperType.startsWith("llava") && !visionType.startsWith("siglip"));
  const v = new ConfigReader(
    withDefaults(isClip ? "clip_vision_model" : "siglip_vision_model", raw.raw),
    raw.label,
    raw.path,
  );
  const h = v.int("hidden_size");
  const intermediate = v.int("intermediate_size");
  const layers = v.int("num_hidden_layers");
  const patch = v.int("patch_size");
  const image = v.int("image_size");
  const channels = v.int("num_channels");
  const patches = patchCount(image, patch);
  let params = layers * encoderLayerParams(h, intermediate, { bias: true, gated: false, layerNorm: true });
  params += 2 * h; // post_layernorm
  if (isClip) {
    params += channels * patch * patch * h; // patch conv, no bias
    params += h; // class embedding
    params += (patches + 1) * h; // positions incl. class token
    params += 2 * h; // pre_layrnorm
  } else {
    params += channels * patch * patch * h + h; // patch conv with bias
    params += patches * h;
  }
  if (wrapperType === "gemma3") {
    // mm_input_projection_weight (vision hidden x text hidden) and mm_soft_emb_norm (RMSNorm)
    params += h * textHidden + h;
  } else {
    // llava multi_modal_projector: linear_1 (+bias), GELU, linear_2 (+bias)
    const projectorBias = wrapper.bool("multimodal_projector_bias", true);
    params += h * textHidden + textHidden * textHidden + (projectorBias ? 2 * textHidden : 0);
  }
  return {
    kind: isClip ? "clip" : "siglip",
    numLayers: layers,
    hiddenSize: h,
    intermediateSize: intermediate,
    numHeads: v.int("num_attention_heads"),
    patchSize: patch,
    imageSize: image,
    params,
  };
}

function readQwen2Vl(raw: ConfigReader): VisionSpec {
  const v = new ConfigReader(withDefaults("qwen2_vl_vision", raw.raw), raw.label, raw.path);
  const h = v.int("embed_dim");
  const intermediate = h * v.int("mlp_ratio");
  const layers = v.int("depth");
  const patch = v.int("patch_size");
  const out = v.int("hidden_size");
  const merge = v.int("spatial_merge_size");
  const mergedDim = h * merge * merge;
  let params = v.int("in_chans") * v.int("temporal_patch_size") * patch * patch * h; // Conv3d, no bias
  params += layers * encoderLayerParams(h, intermediate, { bias: true, gated: false, layerNorm: true });
  params += 2 * h + mergedDim * mergedDim + mergedDim + mergedDim * out + out; // merger: ln_q + 2-layer MLP
  return {
    kind: "qwen2-vl",
    numLayers: layers,
    hiddenSize: h,
    intermediateSize: intermediate,
    numHeads: v.int("num_heads"),
    patchSize: patch,
    imageSize: null,
    params,
  };
}

function readQwen25Vl(raw: ConfigReader): VisionSpec {
  const v = new ConfigReader(withDefaults("qwen2_5_vl_vision", raw.raw), raw.label, raw.path);
  const h = v.int("hidden_size");
  const intermediate = v.int("intermediate_size");
  const layers = v.int("depth");
  const patch = v.int("patch_size");
  const out = v.int("out_hidden_size");
  const merge = v.int("spatial_merge_size");
  const mergedDim = h * merge * merge;
  let params = v.intOneOf(["in_chans", "in_channels"]) * v.int("temporal_patch_size") * patch * patch * h;
  // RMSNorm blocks with a gated (SwiGLU) MLP; qkv, proj and MLP projections carry biases
  params += layers * (4 * h * h + 4 * h + 3 * h * intermediate + 2 * intermediate + h + 2 * h);
  params += h + mergedDim * mergedDim + mergedDim + mergedDim * out + out; // merger: RMSNorm ln_q + MLP
  return {
    kind: "qwen2.5-vl",
    numLayers: layers,
    hiddenSize: h,
    intermediateSize: intermediate,
    numHeads: v.int("num_heads"),
    patchSize: patch,
    imageSize: null,
    params,
  };
}

function readMllama(raw: ConfigReader, textHidden: number): VisionSpec {
  const v = new ConfigReader(withDefaults("mllama_vision_model", raw.raw), raw.label, raw.path);
  const h = v.int("hidden_size");
  const intermediate = v.int("intermediate_size");
  const local = v.int("num_hidden_layers");
  const global = v.int("num_global_layers");
  const patch = v.int("patch_size");
  const image = v.int("image_size");
  const tiles = v.int("max_num_tiles");
  const ratios = v.raw.supported_aspect_ratios;
  const aspectRatios = (Array.isArray(ratios) ? ratios.length : 8) + 1; // list of [w, h] tile layouts, + id 0
  const patches = patchCount(image, patch) + 1;
  let params = v.int("num_channels") * patch * patch * h + h; // patch conv (no bias) + class embedding
  params += patches * h + 1 + aspectRatios * tiles * patches * h; // gated positional + tile positional
  params += 2 * (aspectRatios * tiles * h + 1); // pre/post tile positional embeddings with gates
  params += 4 * h; // layernorm_pre, layernorm_post
  const layer = 4 * h * h + 2 * h * intermediate + intermediate + h + 4 * h; // attn (no bias), MLP, 2 LayerNorms
  params += local * layer + global * (layer + 2); // global layers add attention and MLP gates
  params += v.int("vision_output_dim") * textHidden + textHidden; // multi_modal_projector
  return {
    kind: "mllama",
    numLayers: local + global,
    hiddenSize: h,
    intermediateSize: intermediate,
    numHeads: v.intOneOf(["attention_heads", "num_attention_heads"]),
    patchSize: patch,
    imageSize: image,
    params,
  };
}

function readLlama4(raw: ConfigReader, textHidden: number): VisionSpec {
  const v = new ConfigReader(withDefaults("llama4_vision_model", raw.raw), raw.label, raw.path);
  const h = v.int("hidden_size");
  const intermediate = v.int("intermediate_size");
  const layers = v.int("num_hidden_layers");
  const patch = v.int("patch_size");
  const image = v.int("image_size");
  const ratio = typeof v.raw.pixel_shuffle_ratio === "number" ? v.raw.pixel_shuffle_ratio : 0.5;
  const shuffled = Math.round(h / (ratio * ratio));
  const projIn = v.int("projector_input_dim");
  const projOut = v.int("projector_output_dim");
  let params = v.int("num_channels") * patch * patch * h + h; // unfolded patch linear + class embedding
  params += (patchCount(image, patch) + 1) * h + 4 * h; // positions, layernorm_pre/post
  params += layers * encoderLayerParams(h, intermediate, { bias: true, gated: false, layerNorm: true });
  params += shuffled * projIn + projIn * projOut; // vision adapter (pixel-shuffle MLP, no bias)
  params += v.int("vision_output_dim") * textHidden; // multi_modal_projector
  return {
    kind: "llama4",
    numLayers: layers,
    hiddenSize: h,
    intermediateSize: intermediate,
    numHeads: v.int("num_attention_heads"),
    patchSize: patch,
    imageSize: image,
    params,
  };
}
