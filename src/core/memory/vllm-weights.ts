import type { Architecture, LayerSpec } from "../model/architecture.js";
import { attentionLayerParams } from "../model/count-params.js";
import { dtypeBytes } from "../model/weight-bytes.js";

/**
 * Weight bytes on one GPU rank as vLLM loads them ("Model loading took X GiB"), following
 * vllm/model_executor/layers/linear.py (column / row parallel), vocab_parallel_embedding.py
 * (vocabulary padded to a multiple of 64, then split by TP), fused_moe (experts' intermediate
 * dimension split by TP, or whole experts over EP ranks: the same bytes per rank) and each model
 * file's choice of replicated modules (norms, MoE routers, MLA's q_a / kv_a projections).
 */
export interface WeightsInput {
  arch: Architecture;
  tensorParallelSize: number;
  pipelineParallelSize: number;
  /** Compute dtype for unquantized weights ("bfloat16", "float16", "float32"). */
  dtype: string;
  /** "fp8" for online quantization of an unquantized checkpoint; null otherwise. */
  onlineQuantization: "fp8" | null;
  /** NVIDIA compute capability major version (kernel choices that change padding); 0 when unknown. */
  computeCapabilityMajor?: number;
}

export interface RankWeights {
  bytes: number;
  /** Layers on the heaviest pipeline stage. */
  layersOnRank: number;
  breakdown: { embeddings: number; lmHead: number; layers: number; vision: number };
}

/** vllm/model_executor/layers/vocab_parallel_embedding.py pad_vocab_size (DEFAULT_VOCAB_PADDING_SIZE = 64). */
export function paddedVocab(vocab: number): number {
  return Math.ceil(vocab / 64) * 64;
}

/** KV heads each rank holds: split when they divide by TP, replicated when TP exceeds them. */
export function kvHeadsPerRank(numKvHeads: number, tp: number): number {
  return Math.max(1, Math.floor(numKvHeads / tp));
}

/** Which layers a pipeline stage holds (vllm/distributed/utils.py get_pp_indices: even split, remainder last). */
export function layersPerStage(numLayers: number, pp: number): number[] {
  const base = Math.floor(numLayers / pp);
  const remainder = numLayers % pp;
  // get_pp_indices gives the remainder layers to the last stages
  return Array.from({ length: pp }, (_, stage) => base + (stage >= pp - remainder ? 1 : 0));
}

/**
 * MXFP4 MoE weights are padded for the kernels (vllm/model_executor/layers/quantization/mxfp4.py
 * create_weights): the intermediate size per rank is rounded up to a multiple of 256 on Hopper and
 * newer (triton kernels), and the hidden size too on older GPUs (Marlin). Calibrated on gpt-oss
 * rows of data/calibration/vllm-memory.jsonl (H100 TP1, A100 TP4).
 */
function paddedExpertDims(
  arch: Architecture,
  tp: number,
  costs: Costs,
): { hidden: number; intermediate: number } {
  const moe = arch.moe;
  const perRank = (moe?.expertIntermediateSize ?? 0) / tp;
  if (arch.quantization?.method !== "mxfp4") return { hidden: arch.hiddenSize, intermediate: perRank };
  const roundUp = (n: number) => Math.ceil(n / 256) * 256;
  return {
    hidden: costs.mxfp4Marlin ? roundUp(arch.hiddenSize) : arch.hiddenSize,
    intermediate: roundUp(perRank),
  };
}

interface Costs {
  /** MXFP4 experts run on the Marlin fallback (no native FP4 path): both dims padded. */
  mxfp4Marlin: boolean;
  /** Bytes per parameter of quantized linear weights (scales included). */
  linear: number;
  experts: number;
  /** Unquantized weights: embeddings, norms, routers, biases. */
  plain: number;
}

function costsOf(input: WeightsInput): Costs {
  const plain = dtypeBytes(input.dtype);
  const q = input.arch.quantization;
  const mxfp4Marlin = (input.computeCapabilityMajor ?? 9) < 9;
  if (q) {
    return {
      mxfp4Marlin,
      linear: q.appliesTo === "experts" ? plain : q.bytesPerWeight,
      experts: q.bytesPerWeight,
      plain,
    };
  }
  if (input.onlineQuantization === "fp8") return { mxfp4Marlin, linear: 1, experts: 1, plain };
  return { mxfp4Marlin, linear: plain, experts: plain, plain };
}

/** Bytes of one decoder layer on one rank. */
function layerBytes(arch: Architecture, layer: LayerSpec, tp: number, costs: Costs): number {
  const h = arch.hiddenSize;
  const a = arch.attention;
  const normWidth = arch.norm.kind === "layer" ? 2 * h : h;
  let replicated = arch.norm.perLayer * normWidth * costs.plain;
  let sharded = 0;
  if (layer.attention === "mla" && a.mla) {
    const m = a.mla;
    // q_a_proj / kv_a_proj_with_mqa are ReplicatedLinear (vllm/model_executor/models/deepseek_v2.py)
    const replicatedLinear = (m.qLoraRank ? h * m.qLoraRank : 0) + h * (m.kvLoraRank + m.qkRopeHeadDim);
    const replicatedNorms = (m.qLoraRank ?? 0) + m.kvLoraRank;
    const total = attentionLayerParams(arch, "mla");
    sharded += (total - replicatedLinear - replicatedNorms) * costs.linear;
    replicated += replicatedLinear * costs.linear + replicatedNorms * costs.plain;
  } else if (layer.attention === "linear") {
    sharded += attentionLayerParams(arch, "linear") * costs.linear;
  } else {
    // q / o split by TP; K and V projections hold kvHeadsPerRank heads on every rank (replicated
    // when TP exceeds the KV heads), so they are counted per rank, not divided.
    const kvPerRank = kvHeadsPerRank(a.numKvHeads, tp);
    const q = h * a.numHeads * a.headDim * (a.outputGate ? 2 : 1);
    const o = a.numHeads * a.vHeadDim * h;
    sharded += (q + o) * costs.linear;
    sharded +=
      (a.qkvBias ? a.numHeads * a.headDim : 0) * costs.plain + (a.sinks ? a.numHeads * costs.plain : 0);
    replicated += h * kvPerRank * (a.headDim + a.vHeadDim) * costs.linear;
    replicated += (a.qkvBias ? kvPerRank * (a.headDim + a.vHeadDim) : 0) * costs.plain;
    replicated += (a.outputBias ? h : 0) * costs.plain;
    replicated += (a.qkNorm || layer.attention === "cross" ? 2 * a.headDim : 0) * costs.plain;
  }
  return sharded / tp + replicated + mlpBytes(arch, layer, tp, costs);
}

function mlpBytes(arch: Architecture, layer: LayerSpec, tp: number, costs: Costs): number {
  const h = arch.hiddenSize;
  const moe = arch.moe;
  if (layer.mlp === "moe" && moe) {
    const { hidden, intermediate } = paddedExpertDims(arch, tp, costs);
    // experts' intermediate dimension is split by TP (or whole experts over EP ranks: same bytes)
    const expertsPerRank = moe.numExperts * 3 * hidden * intermediate * costs.experts;
    const expertBias = moe.expertBias ? moe.numExperts * (2 * moe.expertIntermediateSize + h) : 0;
    const shared = moe.sharedIntermediateSize > 0 ? 3 * h * moe.sharedIntermediateSize : 0;
    const router =
      h * moe.numExperts +
      (moe.routerBias ? moe.numExperts : 0) +
      (moe.routerCorrectionBias ? moe.numExperts : 0);
    return (
      expertsPerRank +
      (expertBias * costs.plain + shared * costs.linear) / tp +
      (router + (moe.sharedExpertGate ? h : 0)) * costs.plain
    );
  }
  const dense = 3 * h * arch.intermediateSize;
  const bias = arch.mlpBias ? 2 * arch.intermediateSize : 0;
  return (dense * costs.linear + bias * costs.plain) / tp + (arch.mlpBias ? h * costs.plain : 0);
}

/** Weight bytes on the heaviest rank. */
export function estimateRankWeights(input: WeightsInput): RankWeights {
  const { arch } = input;
  const tp = input.tensorParallelSize;
  const pp = input.pipelineParallelSize;
  const costs = costsOf(input);
  const h = arch.hiddenSize;
  const vocabRows = paddedVocab(arch.vocabSize) / tp;
  const embeddings = vocabRows * h * costs.plain;
  const lmHead = arch.tieWordEmbeddings && pp === 1 ? 0 : vocabRows * h * costs.plain;
  const finalNorm = (arch.norm.kind === "layer" ? 2 * h : h) * costs.plain;
  const vision = ((arch.vision?.params ?? 0) * costs.plain) / tp;
  const stages = layersPerStage(arch.numLayers, pp);
  let best: RankWeights | null = null;
  let start = 0;
  for (const [stage, count] of stages.entries()) {
    const layers = arch.layers.slice(start, start + count);
    start += count;
    const layerTotal = layers.reduce((sum, layer) => sum + layerBytes(arch, layer, tp, costs), 0);
    const first = stage === 0;
    const last = stage === pp - 1;
    const stageEmbeddings = first ? embeddings : 0;
    const stageHead = last ? lmHead + finalNorm : 0;
    const stageVision = first ? vision : 0;
    const bytes = stageEmbeddings + stageHead + layerTotal + stageVision;
    if (!best || bytes > best.bytes) {
      best = {
        bytes,
        layersOnRank: count,
        breakdown: {
          embeddings: stageEmbeddings,
          lmHead: stageHead,
          layers: layerTotal,
          vision: stageVision,
        },
      };
    }
  }
  return best as RankWeights;
}
