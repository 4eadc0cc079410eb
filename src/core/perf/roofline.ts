import type { GpuSpec } from "../gpu/gpu-spec.js";
import type { Architecture } from "../model/architecture.js";
import type { Range, Workload } from "../plan/types.js";
import type { Efficiency } from "./efficiency.js";
import type { SchedulerPolicy } from "./scheduler.js";
import { DEFAULT_EFFICIENCY } from "./select-efficiency.js";
import { type SimulationResult, type StepLoad, simulateServing } from "./simulate.js";

/**
 * Performance model per engine replica: a roofline for the time of one forward step, driven by a
 * simulation of the engine's scheduler (simulate.ts, scheduler.ts).
 * - step time: max(bytes read / bandwidth, FLOPs / compute) + two all-reduces per layer across TP
 *   ranks + a fixed per-step overhead (scheduling, sampling, launches). Bytes read = the rank's weights
 *   (for MoE only the experts the step's tokens touch) + the KV cache the step attends to. FLOPs =
 *   2 x active parameters per token (logits only for sampled tokens) + causal attention over each
 *   prompt chunk and the prompt before it (quadratic in prompt length).
 * - scheduling: the engine's own policy fills each step (decodes first and prompt chunks in the rest
 *   of max_num_batched_tokens for vLLM V1 / TensorRT-LLM / llama-server; waiting prompts first, decodes
 *   paused, for SGLang and vLLM V0 without chunked prefill). A closed loop of C users (each sends its
 *   next request when the last finishes) is simulated past its first wave; TTFT therefore includes
 *   waiting behind other prompts and behind running steps, TPOT includes the prompt chunks that share
 *   or pause the decode steps.
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
  /** How the engine schedules steps; default: vLLM V1 (decodes first, chunked prefill). */
  scheduler?: SchedulerPolicy;
  /** Open-loop Poisson arrivals at this many requests per second instead of a closed loop. */
  arrivalRate?: number;
  /**
   * Every request has exactly the workload's lengths (fixed-length benchmark data with EOS ignored):
   * users that start together stay in step as far as the scheduler keeps them. Otherwise (real
   * traffic, or EOS honoured) the closed loop's requests arrive spread over the cycle.
   */
  fixedLengths?: boolean;
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

/** The default policy when the plan does not name one: vLLM V1 (decodes first, chunked prefill). */
export function defaultScheduler(maxNumBatchedTokens: number): SchedulerPolicy {
  return {
    name: "vLLM V1",
    order: "decode-first",
    chunked: true,
    tokenBudget: maxNumBatchedTokens,
    source: "vllm/v1/core/sched/scheduler.py (v0.8.0+)",
  };
}

/** Step-time model for one input and efficiency entry (constants hoisted out of the simulation loop). */
function stepModel(input: RooflineInput, e: Efficiency): (load: StepLoad) => number {
  const r = ratesOf(input, e);
  const { arch } = input;
  const tp = input.tensorParallelSize;
  const pp = input.pipelineParallelSize;
  const embed = arch.vocabSize * arch.hiddenSize;
  // the logits GEMM runs for sampled tokens only, one per decoding sequence and one per prompt chunk
  // (vllm/v1/worker/gpu_model_runner.py v0.8+ _prepare_inputs: logits_indices = the last scheduled
  // token of each request); embedding lookups do no multiply-adds
  const body = Math.max(
    input.activeParams * 0.5,
    input.activeParams - embed * (arch.tieWordEmbeddings ? 1 : 2),
  );
  const flopsPerToken = (2 * body) / tp;
  const flopsPerLogit = (2 * embed) / tp;
  const attentionLayers = arch.layers.filter(
    (l) => l.attention !== "linear" && l.attention !== "cross",
  ).length;
  const fullLayers = arch.layers.filter((l) => l.attention === "full" || l.attention === "mla").length;
  const cappedLayers = attentionLayers - fullLayers;
  const window = arch.attention.slidingWindow ?? Number.POSITIVE_INFINITY;
  // causal attention per query-key pair: QK^T and PV; a prompt chunk attends to the prompt before it and
  // causally to itself (vllm/v1/attention/backends/flash_attn.py v0.8+: cu_seqlens_q / seqused_k)
  const pairFlops = (2 * arch.attention.numHeads * (arch.attention.headDim + arch.attention.vHeadDim)) / tp;
  const expertShare = arch.moe
    ? Math.min(
        1,
        Math.max(0, 1 - input.activeParams / input.totalParams) *
          (arch.moe.numExperts / (arch.moe.numExperts - arch.moe.expertsPerToken)),
      )
    : 0;
  const moe = arch.moe ? e.moeSlowdown : 1;
  // two all-reduces per layer, after the attention output and the MLP down projections
  // (vllm/model_executor/layers/linear.py RowParallelLinear, reduce_results=True)
  const allReducePerToken = tp > 1 ? (2 * arch.hiddenSize * 2 * (tp - 1)) / tp / r.link : 0;
  const allReduceLatency = tp > 1 ? e.allReduceLatencyUs * 1e-6 : 0;
  const overhead = e.stepOverheadMs / 1000;
  return (load: StepLoad) => {
    const tokens = load.decodeSeqs + load.prefillTokens;
    let weightBytes = input.weightBytesPerRank;
    if (arch.moe) {
      const m = arch.moe;
      const touched = 1 - (1 - m.expertsPerToken / m.numExperts) ** tokens;
      weightBytes *= 1 - expertShare * (1 - touched);
    }
    let before = 0;
    let pairs = 0;
    let windowed = 0;
    for (const c of load.chunks) {
      before += c.before;
      const mean = c.before + c.tokens / 2;
      pairs += c.tokens * mean;
      windowed += c.tokens * Math.min(window, mean);
    }
    // weights once per step, the KV of every decoding sequence and of the prompt before each chunk,
    // and the new tokens' KV written
    const memory =
      (weightBytes + (load.decodeContext + before + tokens) * input.kvBytesPerTokenPerGpu) / r.bandwidth;
    const compute =
      (load.decodeSeqs * (flopsPerToken + flopsPerLogit)) / r.decodeFlops +
      (load.prefillTokens * flopsPerToken +
        load.chunks.length * flopsPerLogit +
        pairFlops * (fullLayers * pairs + cappedLayers * windowed)) /
        r.prefillFlops;
    const allReduce = 2 * arch.numLayers * (allReduceLatency + tokens * allReducePerToken);
    return (Math.max(memory, compute) * moe + allReduce) * pp + overhead;
  };
}

/** Deterministic exponential inter-arrival times (mulberry32), for Poisson runs. */
function poissonArrivals(rate: number, count: number): number[] {
  let seed = 0x2545f491;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    times.push(t);
    t += -Math.log(1 - next()) / rate;
  }
  return times;
}

function simulateAt(input: RooflineInput, e: Efficiency, concurrency: number): SimulationResult {
  const { workload } = input;
  const scheduler = input.scheduler ?? defaultScheduler(input.maxNumBatchedTokens);
  // every running sequence decodes in every step of a decode-first engine: the budget caps the batch
  const maxRunning = Math.max(
    1,
    Math.min(
      input.maxBatch,
      scheduler.order === "decode-first" ? scheduler.tokenBudget : Number.POSITIVE_INFINITY,
    ),
  );
  const base = {
    promptTokens: workload.promptTokens,
    genTokens: workload.genTokens,
    maxRunning,
    policy: scheduler,
    stepSeconds: stepModel(input, e),
  };
  if (workload.arrival === "static-batch") {
    return simulateServing({
      ...base,
      clients: concurrency,
      replace: false,
      requests: concurrency,
      measureFrom: 0,
    });
  }
  if (input.arrivalRate && input.arrivalRate > 0) {
    const requests = 400;
    return simulateServing({
      ...base,
      clients: 0,
      replace: false,
      arrivals: poissonArrivals(input.arrivalRate, requests),
      requests,
      measureFrom: 100,
    });
  }
  // Closed loop. Benchmark clients start every user at once. With exactly fixed lengths every request
  // then takes the same number of steps, so the users stay in whatever groups the scheduler forms: a
  // prefill-first engine prefills the whole wave before it decodes again and the users stay in one
  // wave (each prompt waits for the prompts queued before it); a decode-first engine splits it into
  // groups of about max_num_batched_tokens / prompt. When lengths vary (real traffic, EOS honoured) the
  // groups dissolve: in steady state requests arrive one at a time, evenly over the cycle. The first
  // wave is warm-up; the next two are measured.
  let startTimes: number[] | undefined;
  if (!input.fixedLengths && concurrency > 1) {
    const running = Math.min(concurrency, maxRunning);
    const P = workload.promptTokens;
    const decode = base.stepSeconds({
      decodeSeqs: running,
      decodeContext: running * (P + workload.genTokens / 2),
      prefillTokens: 0,
      chunks: [],
    });
    const prefill = base.stepSeconds({
      decodeSeqs: 0,
      decodeContext: 0,
      prefillTokens: Math.min(P, scheduler.tokenBudget),
      chunks: [{ tokens: Math.min(P, scheduler.tokenBudget), before: 0 }],
    });
    const cycle =
      ((workload.genTokens * decode + Math.ceil(P / scheduler.tokenBudget) * prefill) * concurrency) /
      running;
    startTimes = Array.from({ length: concurrency }, (_, i) => (i * cycle) / concurrency);
  }
  return simulateServing({
    ...base,
    clients: concurrency,
    replace: true,
    ...(startTimes ? { startTimes } : {}),
    requests: concurrency + Math.max(2 * concurrency, 16),
    measureFrom: concurrency,
  });
}

function pointAt(input: RooflineInput, e: Efficiency, concurrency: number): ConcurrencyPoint {
  const sim = simulateAt(input, e, concurrency);
  return {
    concurrency,
    tpotMs: sim.tpot * 1000,
    ttftMs: sim.ttft * 1000,
    outputTokensPerSecond: sim.throughput,
    perRequestTokensPerSecond: sim.tpot > 0 ? 1 / sim.tpot : 0,
  };
}

/** The estimate at the workload's concurrency only (no curve): what calibration scores. */
export function estimatePoint(input: RooflineInput): ConcurrencyPoint {
  const e = input.efficiency ?? DEFAULT_EFFICIENCY;
  return pointAt(input, e, Math.max(1, input.workload.concurrency));
}

export function estimateRoofline(input: RooflineInput): RooflineEstimate {
  const e = input.efficiency ?? DEFAULT_EFFICIENCY;
  const concurrency = Math.max(1, input.workload.concurrency);
  const at = pointAt(input, e, concurrency);
  const limit = Math.max(1, Math.floor(input.maxBatch));
  const levels: number[] = [];
  for (let c = 1; c < limit; c *= 2) levels.push(c);
  levels.push(limit);
  const curve = levels.map((c) => pointAt(input, e, c));
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
  const scheduler = input.scheduler ?? defaultScheduler(input.maxNumBatchedTokens);
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
      `${concurrency} concurrent requests of ${input.workload.promptTokens} prompt + ${input.workload.genTokens} generated tokens (${input.workload.arrival === "static-batch" ? "one static batch" : "closed loop, steady state"})${concurrency > limit ? `; the KV cache runs ${limit} at once, the rest queue` : ""}`,
      `${scheduler.name} scheduling: ${scheduler.order === "decode-first" ? "decodes first, prompt chunks in the rest of" : "waiting prompts first (decodes pause), up to"} ${scheduler.tokenBudget} tokens per step (${scheduler.source})`,
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
