import type { GpuSpec } from "../gpu/gpu-spec.js";
import type { Architecture } from "../model/architecture.js";
import type { Range, Workload } from "../plan/types.js";

/**
 * First-order roofline estimate (refined and calibrated by the performance work of the planner):
 * a decode step reads the rank's weights (for MoE, the experts a batch touches) and the batch's KV
 * from memory, and does 2 x active params x batch FLOPs; the slower of the two wins, plus two
 * all-reduces per layer across tensor-parallel ranks. Prefill is compute bound.
 */
export interface RooflineInput {
  arch: Architecture;
  activeParams: number;
  totalParams: number;
  /** Weight bytes on one rank. */
  weightBytesPerRank: number;
  kvBytesPerTokenPerGpu: number;
  gpu: GpuSpec;
  tensorParallelSize: number;
  pipelineParallelSize: number;
  /** Weights are 8-bit or smaller and the GPU has fp8 tensor cores. */
  fp8Compute: boolean;
  workload: Workload;
  /** Concurrency the KV cache allows at the planned length (caps the batch). */
  maxConcurrency: number;
}

/** Fractions of peak a well-tuned engine reaches (first order; to be calibrated per GPU family). */
const EFFICIENCY = { bandwidth: 0.75, compute: 0.5, prefill: 0.6, link: 0.6, allReduceLatencySec: 8e-6 };

export interface RooflineEstimate {
  ttftMs: Range;
  tpotMs: Range;
  outputTokensPerSecond: Range;
  batch: number;
  assumptions: string[];
}

function range(expected: number, lowFactor: number, highFactor: number): Range {
  return { low: round(expected * lowFactor), expected: round(expected), high: round(expected * highFactor) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function estimateRoofline(input: RooflineInput): RooflineEstimate {
  const { arch, gpu, workload } = input;
  const tp = input.tensorParallelSize;
  const batch = Math.max(1, Math.min(workload.concurrency, Math.floor(input.maxConcurrency) || 1));
  const bandwidth = gpu.memory.bandwidthGBs * 1e9 * EFFICIENCY.bandwidth;
  const peak = ((input.fp8Compute ? gpu.tflops.fp8 : null) ?? gpu.tflops.bf16 ?? gpu.tflops.fp16) * 1e12;
  const context = workload.promptTokens + workload.genTokens / 2;

  let weightBytes = input.weightBytesPerRank;
  if (arch.moe) {
    // experts a batch touches per layer: E x (1 - (1 - k/E)^B)
    const m = arch.moe;
    const touched = Math.min(1, 1 - (1 - m.expertsPerToken / m.numExperts) ** batch);
    const expertShare = 1 - input.activeParams / input.totalParams;
    weightBytes *= 1 - expertShare * (1 - touched);
  }
  const memorySec = (weightBytes + batch * context * input.kvBytesPerTokenPerGpu) / bandwidth;
  const computeSec = (2 * (input.activeParams / tp) * batch) / (peak * EFFICIENCY.compute);
  const linkBytes = gpu.interconnect.bandwidthGBs * 1e9 * EFFICIENCY.link;
  const allReduceSec =
    tp > 1
      ? 2 *
        arch.numLayers *
        (EFFICIENCY.allReduceLatencySec + (2 * batch * arch.hiddenSize * 2 * (tp - 1)) / tp / linkBytes)
      : 0;
  const stepSec = Math.max(memorySec, computeSec) + allReduceSec;

  const prefillFlops =
    2 * input.activeParams * workload.promptTokens +
    4 * arch.numLayers * workload.promptTokens ** 2 * arch.attention.numHeads * arch.attention.headDim;
  const prefillSec = prefillFlops / tp / (peak * EFFICIENCY.prefill) + stepSec;

  return {
    ttftMs: range(prefillSec * 1000, 0.85, 1.5),
    tpotMs: range(stepSec * 1000, 0.85, 1.4),
    outputTokensPerSecond: range(batch / stepSec, 0.7, 1.15),
    batch,
    assumptions: [
      `batch of ${batch} concurrent requests (${workload.promptTokens} prompt + ${workload.genTokens} generated tokens)`,
      `${Math.round(EFFICIENCY.bandwidth * 100)}% of peak memory bandwidth, ${Math.round(EFFICIENCY.compute * 100)}% of peak ${input.fp8Compute ? "fp8" : "bf16"} compute in decode, ${Math.round(EFFICIENCY.prefill * 100)}% in prefill`,
      tp > 1
        ? `two all-reduces per layer over ${gpu.interconnect.type}`
        : "single GPU: no tensor-parallel communication",
      "first-order roofline: not yet calibrated against published benchmarks",
    ],
  };
}
