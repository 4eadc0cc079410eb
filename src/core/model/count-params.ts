import type { Architecture, AttentionKind, LayerSpec } from "./architecture.js";

/** Parameters by component. `mtp` is listed apart: published totals leave it out. */
export interface ParamComponents {
  embeddings: number;
  attention: number;
  mlp: number;
  experts: number;
  sharedExperts: number;
  router: number;
  norms: number;
  lmHead: number;
  vision: number;
}

export interface ParamCount {
  total: number;
  /** Parameters used per token: total minus the routed experts a token does not visit. */
  active: number;
  components: ParamComponents;
  /** Multi-token-prediction module shipped in the checkpoint, not in `total`. */
  mtp: number;
}

/** Parameters of one layer's token mixer (attention, MLA, linear attention or cross-attention). */
export function attentionLayerParams(arch: Architecture, kind: AttentionKind): number {
  const a = arch.attention;
  const h = arch.hiddenSize;
  if (kind === "mla" && a.mla) {
    // DeepseekV2Attention (transformers models/deepseek_v3/modeling_deepseek_v3.py)
    const m = a.mla;
    const qHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
    const q = m.qLoraRank
      ? h * m.qLoraRank + m.qLoraRank + m.qLoraRank * a.numHeads * qHead
      : h * a.numHeads * qHead;
    const kvA = h * (m.kvLoraRank + m.qkRopeHeadDim) + m.kvLoraRank;
    const kvB = m.kvLoraRank * a.numHeads * (m.qkNopeHeadDim + m.vHeadDim);
    const o = a.numHeads * m.vHeadDim * h;
    return q + kvA + kvB + o + (a.qkvBias ? a.numHeads * qHead : 0);
  }
  if (kind === "linear" && a.linear) {
    // Qwen3NextGatedDeltaNet (transformers models/qwen3_next/modeling_qwen3_next.py)
    const l = a.linear;
    const keyDim = l.numKeyHeads * l.keyHeadDim;
    const valueDim = l.numValueHeads * l.valueHeadDim;
    const inProj = h * (2 * keyDim + 2 * valueDim) + h * 2 * l.numValueHeads;
    const conv = (2 * keyDim + valueDim) * l.convKernelSize;
    return inProj + conv + 2 * l.numValueHeads + l.valueHeadDim + valueDim * h;
  }
  const qDim = a.numHeads * a.headDim;
  const kDim = a.numKvHeads * a.headDim;
  const vDim = a.numKvHeads * a.vHeadDim;
  let params = h * qDim * (a.outputGate ? 2 : 1) + h * kDim + h * vDim + a.numHeads * a.vHeadDim * h;
  if (a.qkvBias) params += qDim + kDim + vDim;
  if (a.outputBias) params += h;
  if (a.qkNorm || kind === "cross") params += 2 * a.headDim;
  if (a.sinks) params += a.numHeads;
  if (kind === "cross") params += 2; // mllama cross_attn_attn_gate and cross_attn_mlp_gate
  return params;
}

function gatedMlpParams(h: number, intermediate: number, bias: boolean): number {
  return 3 * h * intermediate + (bias ? 2 * intermediate + h : 0);
}

interface LayerParams {
  attention: number;
  mlp: number;
  experts: number;
  sharedExperts: number;
  router: number;
  norms: number;
}

function layerParams(arch: Architecture, layer: LayerSpec): LayerParams {
  const h = arch.hiddenSize;
  const normWidth = arch.norm.kind === "layer" ? 2 * h : h;
  const result: LayerParams = {
    attention: attentionLayerParams(arch, layer.attention),
    mlp: 0,
    experts: 0,
    sharedExperts: 0,
    router: 0,
    norms: arch.norm.perLayer * normWidth,
  };
  const moe = arch.moe;
  if (layer.mlp === "moe" && moe) {
    const perExpert = 3 * h * moe.expertIntermediateSize;
    // gpt-oss experts carry biases on gate_up (2 x intermediate) and down (hidden)
    const expertBias = moe.expertBias ? 2 * moe.expertIntermediateSize + h : 0;
    result.experts = moe.numExperts * (perExpert + expertBias);
    result.sharedExperts =
      moe.sharedIntermediateSize > 0
        ? 3 * h * moe.sharedIntermediateSize + (moe.sharedExpertGate ? h : 0)
        : 0;
    result.router =
      h * moe.numExperts +
      (moe.routerBias ? moe.numExperts : 0) +
      (moe.routerCorrectionBias ? moe.numExperts : 0);
  } else {
    result.mlp = gatedMlpParams(h, arch.intermediateSize, arch.mlpBias);
  }
  return result;
}

/**
 * Counts parameters from the architecture alone, the way the checkpoint stores them (unquantized
 * element counts). Matches published totals when the config is exact; safetensors headers, when
 * available, give the exact figure instead (see tensor-params.ts).
 */
export function countParams(arch: Architecture): ParamCount {
  const h = arch.hiddenSize;
  const components: ParamComponents = {
    embeddings: arch.vocabSize * h,
    attention: 0,
    mlp: 0,
    experts: 0,
    sharedExperts: 0,
    router: 0,
    norms: arch.norm.kind === "layer" ? 2 * h : h,
    lmHead: arch.tieWordEmbeddings ? 0 : arch.vocabSize * h,
    vision: arch.vision?.params ?? 0,
  };
  let inactiveExperts = 0;
  for (const layer of arch.layers) {
    const p = layerParams(arch, layer);
    components.attention += p.attention;
    components.mlp += p.mlp;
    components.experts += p.experts;
    components.sharedExperts += p.sharedExperts;
    components.router += p.router;
    components.norms += p.norms;
    if (arch.moe && p.experts > 0) {
      inactiveExperts += p.experts * (1 - arch.moe.expertsPerToken / arch.moe.numExperts);
    }
  }
  const total = Object.values(components).reduce((sum, value) => sum + value, 0);
  return { total, active: Math.round(total - inactiveExperts), components, mtp: countMtpParams(arch) };
}

/**
 * DeepSeek-V3-style MTP module per predicted token: one more decoder layer (MoE when the model has
 * experts), enorm + hnorm, eh_proj (2H -> H) and the shared head's norm. Embedding and head are shared
 * with the main model in the engine.
 */
function countMtpParams(arch: Architecture): number {
  if (arch.mtpLayers === 0) return 0;
  const last = arch.layers[arch.layers.length - 1];
  if (!last) return 0;
  const p = layerParams(arch, last);
  const h = arch.hiddenSize;
  const layer = p.attention + p.mlp + p.experts + p.sharedExperts + p.router + p.norms;
  return arch.mtpLayers * (layer + 3 * h + 2 * h * h);
}
