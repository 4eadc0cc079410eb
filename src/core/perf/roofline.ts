import type { GpuSpec } from "../gpu/gpu-spec.js";
import type { Architecture } from "../model/architecture.js";
import type { Range, Workload } from "../plan/types.js";
import type { Efficiency } from "./efficiency.js";
import { DEFAULT_EFFICIENCY } from "./select-efficiency.js";

/**
 * Roofline performance model per GPU rank, for continuous batching with chunked prefill:
 * - decode step: max(bytes read / bandwidth, 2 x active params x batch / compute) + two all-reduces per
 *   layer across TP ranks + a fixed scheduler overhead. Bytes read = the rank's weights (for MoE, only
 *   the experts the batch touches) + the batch's KV cache.
 * - prefill: compute bound, linear layers (2 x active params per token) plus causal attention
 *   (quadratic in prompt length), split by TP, at the prefill share of peak; chunks of
 *   max_num_batched_tokens each reread the weights.
 * - in a closed loop of B concurrent requests every request's prefill is interleaved with the decode
 *   steps, so the mean inter-token time is decode step + B x prefill / generated tokens.
 * - pipeline parallel: stages run in sequence for one micro-batch (a bubble of PP x).
 * Efficiency factors come from data/engines/perf-efficiency.yaml (calibrated on
 * data/calibration/perf.jsonl).
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
  /** 8-bit weights on a GPU with fp8 tensor cores: fp8 compute. */
  fp8Compute: boolean;
  workload: Workload;
  /** Concurrency the KV cache allows for the workload's requests (caps the batch). */
  maxBatch: number;
  maxNumBatchedTokens: number;
  efficiency?: Efficiency;
}

export interface ConcurrencyPoint {
  concurrency: number;
  tpotMs: number;
  ttftMs: number;
  outputTokensPerSecond: number;
  perRequestTokensPerSecond: number;
}

export interface RooflineEstimate {
  ttftMs: Range;
  tpotMs: Range;
  outputTokensPerSecond: Range;
  perRequestTokensPerSecond: Range;
  batch: number;
  curve: ConcurrencyPoint[];
  /** Concurrency past which throughput gains less than 5% per doubling, or the KV limit. */
  saturation: { concurrency: number; reason: string };
  assumptions: string[];
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function range(expected: number, lowFactor: number, highFactor: number): Range {
  return { low: round(expected * lowFactor), expected: round(expected), high: round(expected * highFactor) };
}

interface Rates {
  bandwidth: number;
  decodeFlops: number;
  prefillFlops: number;
  link: number;
}

function ratesOf(input: RooflineInput, e: Efficiency): Rates {
  const { gpu } = input;
  const peak = ((input.fp8Compute ? gpu.tflops.fp8 : null) ?? gpu.tflops.bf16 ?? gpu.tflops.fp16) * 1e12;
  return {
    bandwidth: gpu.memory.bandwidthGBs * 1e9 * e.bandwidth,
    decodeFlops: peak * e.decodeCompute,
    prefillFlops: peak * e.prefillCompute,
    link: gpu.interconnect.bandwidthGBs * 1e9 * e.link,
  };
}

/** Seconds of one decode step for a batch of `batch` sequences with `context` tokens each on average. */
function decodeStepSeconds(
  input: RooflineInput,
  e: Efficiency,
  r: Rates,
  batch: number,
  context: number,
): number {
  const { arch } = input;
  const tp = input.tensorParallelSize;
  let weightBytes = input.weightBytesPerRank;
  if (arch.moe) {
    const m = arch.moe;
    const touched = 1 - (1 - m.expertsPerToken / m.numExperts) ** batch;
    const expertShare =
      Math.max(0, 1 - input.activeParams / input.totalParams) *
      (m.numExperts / (m.numExperts - m.expertsPerToken));
    weightBytes *= 1 - Math.min(1, expertShare) * (1 - touched);
  }
  const memory = (weightBytes + batch * context * input.kvBytesPerTokenPerGpu) / r.bandwidth;
  const compute = (2 * (input.activeParams / tp) * batch) / r.decodeFlops;
  const allReduce =
    tp > 1
      ? 2 *
        arch.numLayers *
        (e.allReduceLatencyUs * 1e-6 + (2 * batch * arch.hiddenSize * 2 * (tp - 1)) / tp / r.link)
      : 0;
  const moe = arch.moe ? e.moeSlowdown : 1;
  return (Math.max(memory, compute) * moe + allReduce) * input.pipelineParallelSize + e.stepOverheadMs / 1000;
}

/** Seconds to prefill one prompt of `tokens` tokens on the ranks (compute bound, chunked). */
function prefillSeconds(input: RooflineInput, e: Efficiency, r: Rates, tokens: number): number {
  const { arch } = input;
  const tp = input.tensorParallelSize;
  const linear = 2 * input.activeParams * tokens;
  const attentionLayers = arch.layers.filter(
    (l) => l.attention !== "linear" && l.attention !== "cross",
  ).length;
  const window = arch.attention.slidingWindow ?? tokens;
  const fullLayers = arch.layers.filter((l) => l.attention === "full" || l.attention === "mla").length;
  const cappedLayers = attentionLayers - fullLayers;
  // causal attention: QK^T and PV over half the square on average
  const headWork = arch.attention.numHeads * (arch.attention.headDim + arch.attention.vHeadDim);
  const attention =
    2 * headWork * (fullLayers * tokens * tokens * 0.5 + cappedLayers * tokens * Math.min(window, tokens));
  const chunks = Math.max(1, Math.ceil(tokens / input.maxNumBatchedTokens));
  const weightReads = (chunks * input.weightBytesPerRank) / r.bandwidth;
  const moe = arch.moe ? e.moeSlowdown : 1;
  return (
    Math.max(((linear + attention) / tp / r.prefillFlops) * moe, weightReads) * input.pipelineParallelSize
  );
}

function pointAt(input: RooflineInput, e: Efficiency, r: Rates, concurrency: number): ConcurrencyPoint {
  const { workload } = input;
  const batch = Math.max(1, Math.min(concurrency, input.maxBatch));
  const context = workload.promptTokens + workload.genTokens / 2;
  const step = decodeStepSeconds(input, e, r, batch, context);
  const prefill = prefillSeconds(input, e, r, workload.promptTokens);
  const gen = Math.max(1, workload.genTokens);
  if (workload.arrival === "static-batch") {
    // the whole batch prefills together (one compute-bound pass over batch x prompt tokens), then decodes
    const batchPrefill = prefill * batch;
    return {
      concurrency,
      tpotMs: step * 1000,
      ttftMs: (batchPrefill + step) * 1000,
      outputTokensPerSecond: (batch * gen) / (batchPrefill + gen * step),
      perRequestTokensPerSecond: 1 / step,
    };
  }
  // each request's prefill is interleaved into the decode steps of the whole batch
  const tpot = step + ((batch - 1) * prefill) / gen;
  // Prefill is a shared server: requests wait for the prefills queued before theirs. In a closed loop
  // of `batch` users its utilization is the others' prefill work per cycle; the mean wait of an M/D/1
  // queue, rho / (2 (1 - rho)) x service time, is solved together with the cycle it lengthens.
  let ttft = prefill + step;
  let cycle = ttft + gen * tpot;
  for (let i = 0; i < 8; i++) {
    const rho = Math.min(0.95, ((batch - 1) * prefill) / cycle);
    ttft = prefill * (1 + rho / (2 * (1 - rho))) + step;
    cycle = ttft + gen * tpot;
  }
  const queued = concurrency > batch ? (concurrency / batch - 1) * cycle : 0;
  return {
    concurrency,
    tpotMs: tpot * 1000,
    ttftMs: (ttft + queued) * 1000,
    outputTokensPerSecond: (batch * gen) / cycle,
    perRequestTokensPerSecond: 1 / tpot,
  };
}

export function estimateRoofline(input: RooflineInput): RooflineEstimate {
  const e = input.efficiency ?? DEFAULT_EFFICIENCY;
  const r = ratesOf(input, e);
  const concurrency = Math.max(1, input.workload.concurrency);
  const at = pointAt(input, e, r, concurrency);
  const limit = Math.max(1, Math.floor(input.maxBatch));
  const levels: number[] = [];
  for (let c = 1; c < limit; c *= 2) levels.push(c);
  levels.push(limit);
  const curve = levels.map((c) => pointAt(input, e, r, c));
  let saturation = { concurrency: limit, reason: "the KV cache holds no more requests of this size" };
  for (let i = 1; i < curve.length; i++) {
    const prev = curve[i - 1] as ConcurrencyPoint;
    const cur = curve[i] as ConcurrencyPoint;
    if (cur.outputTokensPerSecond < prev.outputTokensPerSecond * 1.05) {
      saturation = {
        concurrency: prev.concurrency,
        reason: "doubling the load adds less than 5% throughput (compute bound)",
      };
      break;
    }
  }
  return {
    ttftMs: range(at.ttftMs, 0.8, 1.5),
    tpotMs: range(at.tpotMs, 0.8, 1.35),
    outputTokensPerSecond: range(at.outputTokensPerSecond, 0.75, 1.2),
    perRequestTokensPerSecond: range(at.perRequestTokensPerSecond, 0.75, 1.2),
    batch: Math.min(concurrency, limit),
    curve: curve.map((p) => ({
      concurrency: p.concurrency,
      tpotMs: round(p.tpotMs),
      ttftMs: round(p.ttftMs),
      outputTokensPerSecond: round(p.outputTokensPerSecond),
      perRequestTokensPerSecond: round(p.perRequestTokensPerSecond),
    })),
    saturation,
    assumptions: [
      `${concurrency} concurrent requests of ${input.workload.promptTokens} prompt + ${input.workload.genTokens} generated tokens (closed loop)${concurrency > limit ? `; the KV cache runs ${limit} at once, the rest queue` : ""}`,
      `${Math.round(e.bandwidth * 100)}% of peak memory bandwidth, ${Math.round(e.decodeCompute * 100)}% / ${Math.round(e.prefillCompute * 100)}% of peak ${input.fp8Compute ? "fp8" : "bf16"} compute in decode / prefill, ${e.stepOverheadMs} ms per scheduler step (${e.id})`,
      input.tensorParallelSize > 1
        ? `two all-reduces per layer over ${input.gpu.interconnect.type} at ${Math.round(e.link * 100)}% of ${input.gpu.interconnect.bandwidthGBs} GB/s`
        : "single GPU: no tensor-parallel communication",
      ...(input.pipelineParallelSize > 1
        ? [`${input.pipelineParallelSize} pipeline stages run in sequence per step`]
        : []),
    ],
  };
}
