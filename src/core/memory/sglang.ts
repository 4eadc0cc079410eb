import type { SglangSpec } from "../engines/sglang-spec.js";
import { ServepilotError } from "../errors.js";
import type { Architecture } from "../model/architecture.js";
import { countParams } from "../model/count-params.js";
import { dtypeBytes } from "../model/weight-bytes.js";
import type { GpuMemoryTarget, MemoryPlan, ResolvedEngineArgs } from "./types.js";

/**
 * First-order model of how SGLang sizes its KV pool at startup, per TP rank. Sources (sgl-project/sglang):
 * - `ModelRunnerKVCacheMixin.profile_max_num_token` / `get_cell_size_per_token` / `init_memory` in
 *   python/sglang/srt/model_executor/model_runner_kv_cache_mixin.py @001ccef0 (before 2025-10 the same
 *   code sat in model_runner.py): `rest = free_after_load - free_before_load x (1 - mem_fraction_static)`,
 *   `max_total_num_tokens = int(rest x 2^30) // cell_size`, then rounded down to the page size;
 *   `RuntimeError("Not enough memory. ...")` when it is <= 0.
 * - `ModelConfig.get_num_kv_heads(tp) = max(1, kv_heads // tp)` (python/sglang/srt/configs/model_config.py).
 * - `free_before_load` is `get_available_gpu_memory` after distributed init, minimum over ranks
 *   (`ModelRunner.init_torch_distributed`), i.e. free memory, not the device total.
 * The default `mem_fraction_static` is `resolveSglangGpuDefaults` (data/engines/sglang.yaml).
 */

const GiB = 2 ** 30;

export interface SglangMemoryInput {
  arch: Architecture;
  /** Checkpoint weight bytes, all ranks together. */
  weightBytesTotal: number;
  gpu: GpuMemoryTarget;
  /** maxModelLen = --context-length, gpuMemoryUtilization = --mem-fraction-static, maxNumSeqs = --max-running-requests. */
  args: ResolvedEngineArgs;
  spec: SglangSpec;
  /** Reported as MemoryPlan.engineVersion; default: the spec's version range. */
  engineVersion?: string;
}

export interface SglangMemoryPlan extends MemoryPlan {
  sglang: {
    memFractionStatic: number;
    /** SGLang's `total_gpu_memory`: free bytes on a rank after startup, before weights. */
    freeBeforeLoadBytes: number;
    /** `rest_memory`: what the token pools get (bytes; negative when the weights overflow the budget). */
    restBytes: number;
    /** Full-attention tokens (what SGLang logs as max_total_num_tokens). */
    maxTotalNumTokens: number;
    /** Sliding-window pool tokens for hybrid SWA models, else null. */
    swaTokens: number | null;
    /** max_running_requests SGLang would pick when the flag is not given. */
    maxRunningRequestsDefault: number;
    /** KV heads held per rank (null for MLA, which keeps the whole latent on every rank). */
    kvHeadsPerRank: number | null;
    layersPerRank: number;
  };
}

function invalid(flag: string, expected: string, got: unknown): never {
  throw new ServepilotError("INVALID_ARGUMENT", `${flag} must be ${expected}, got ${JSON.stringify(got)}`, {
    details: { flag, expected, received: got ?? null },
  });
}

/** Bytes per KV element for --kv-cache-dtype ("auto" = the model's compute dtype). */
export function sglangKvDtypeBytes(spec: SglangSpec, kvCacheDtype: string, modelDtype: string): number {
  if (kvCacheDtype === "auto") return dtypeBytes(modelDtype);
  const bytes = spec.kvCacheDtypeBytes[kvCacheDtype];
  if (bytes === undefined) {
    invalid(
      "--kv-cache-dtype",
      `one of auto, ${Object.keys(spec.kvCacheDtypeBytes).join(", ")}`,
      kvCacheDtype,
    );
  }
  return bytes;
}

interface CellSize {
  /** Bytes per token on one rank, all KV layers of the stage. */
  cell: number;
  /** Full-attention and sliding-window parts (per token, all layers of each kind). */
  full: number;
  swa: number;
  kvHeadsPerRank: number | null;
  hasLinear: boolean;
}

/** `get_cell_size_per_token`: K and V of kv_heads_per_rank heads per layer (MHA) or one latent (MLA). */
function cellSize(arch: Architecture, layers: Architecture["layers"], tp: number, kvBytes: number): CellSize {
  const a = arch.attention;
  const kvHeadsPerRank = Math.max(1, Math.floor(a.numKvHeads / tp));
  let full = 0;
  let swa = 0;
  let mla = false;
  for (const layer of layers) {
    if (layer.attention === "mla" && a.mla) {
      mla = true;
      full += (a.mla.kvLoraRank + a.mla.qkRopeHeadDim) * kvBytes;
    } else if (layer.attention === "full") {
      full += kvHeadsPerRank * (a.headDim + a.vHeadDim) * kvBytes;
    } else if (layer.attention === "sliding" || layer.attention === "chunked") {
      swa += kvHeadsPerRank * (a.headDim + a.vHeadDim) * kvBytes;
    }
  }
  const hasLinear = layers.some((l) => l.attention === "linear");
  return { cell: full + swa, full, swa, kvHeadsPerRank: mla ? null : kvHeadsPerRank, hasLinear };
}

/**
 * Weights one rank loads: TP shards every linear layer, the vocab-parallel embedding and lm_head;
 * norms and MoE routers are replicated; K/V projections are replicated when kv_heads < tp (each rank
 * keeps max(1, kv_heads // tp) heads). Average bytes per parameter of the checkpoint (first order:
 * quantization scales spread evenly). PP splits layers evenly; embedding / lm_head on the end stages
 * are not singled out.
 */
export function estimateSglangWeightsPerRank(
  arch: Architecture,
  weightBytesTotal: number,
  tp: number,
  pp = 1,
): number {
  const params = countParams(arch);
  if (params.total <= 0) return 0;
  const bytesPerParam = weightBytesTotal / params.total;
  const a = arch.attention;
  const kvHeadsPerRank = Math.max(1, Math.floor(a.numKvHeads / tp));
  const mhaLayers = arch.layers.filter((l) => ["full", "sliding", "chunked"].includes(l.attention)).length;
  const kvWidth = arch.hiddenSize * (a.headDim + a.vHeadDim);
  const kvProjTotal = mhaLayers * kvWidth * a.numKvHeads;
  const kvProjPerRank = mhaLayers * kvWidth * kvHeadsPerRank;
  const replicated = params.components.norms + params.components.router;
  const sharded = params.total - replicated - kvProjTotal;
  return ((sharded / tp + replicated + kvProjPerRank) / pp) * bytesPerParam;
}

export interface SglangGpuDefaultsOptions {
  pipelineParallelSize?: number;
  /** MLA models cap piecewise prefill graphs at a smaller token count. */
  mla?: boolean;
  /** Values the user gave (they win over the tier defaults and feed the reserve). */
  chunkedPrefillSize?: number | null;
  cudaGraphMaxBs?: number | null;
}

export interface SglangGpuDefaults {
  memFractionStatic: number;
  /** Tier default (or the user's value); null for rules that do not derive it here. */
  chunkedPrefillSize: number | null;
  cudaGraphMaxBs: number | null;
  /** The reserve SGLang keeps outside the static budget, MiB; null when GPU memory is unknown. */
  reservedMiB: number | null;
}

/** Python's round(x, 3) for the values involved (ties are not a practical concern here). */
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function tierFor<T extends { belowGiB: number | null }>(tiers: readonly T[], gpuMiB: number): T {
  const tier =
    tiers.find((t) => t.belowGiB === null || gpuMiB < t.belowGiB * 1024) ?? tiers[tiers.length - 1];
  if (!tier) throw new ServepilotError("INVALID_DATA_FILE", "sglang spec: memFractionStatic.tiers is empty");
  return tier;
}

function expandSizes(
  segments: ReadonlyArray<{ start: number; step: number; end: number | null }>,
  max: number,
) {
  const sizes: number[] = [];
  for (const s of segments) {
    for (let v = s.start; v <= (s.end ?? max) && v <= max; v += s.step) sizes.push(v);
  }
  return sizes;
}

/**
 * SGLang's default --mem-fraction-static (and the chunked-prefill / decode-graph defaults it is derived
 * from) for a GPU of `gpuTotalGiB` = nvidia-smi memory.total MiB / 1024 (SGLang reads nvidia-smi, the
 * minimum over visible GPUs; pass the catalog's smiTotalMiB / 1024 when known). Reproduces
 * `ServerArgs._handle_gpu_memory_settings` (python/sglang/srt/server_args.py; moved to
 * arg_groups/memory_hook.py `handle_gpu_memory_settings` in 2026) for the rule in the spec entry.
 * Not modelled: DP attention, speculative decoding, DeepEP and multimodal adjustments.
 */
export function resolveSglangGpuDefaults(
  spec: SglangSpec,
  gpuTotalGiB: number | null,
  tp: number,
  options: SglangGpuDefaultsOptions = {},
): SglangGpuDefaults {
  if (!Number.isSafeInteger(tp) || tp < 1) invalid("--tp-size", "a positive integer", tp);
  if (gpuTotalGiB !== null && !(gpuTotalGiB > 0))
    invalid("GPU memory (GiB)", "a positive number", gpuTotalGiB);
  const pp = options.pipelineParallelSize ?? 1;
  const rule = spec.memFractionStatic;
  if (gpuTotalGiB === null) {
    return {
      memFractionStatic: rule.fallback,
      chunkedPrefillSize: null,
      cudaGraphMaxBs: null,
      reservedMiB: null,
    };
  }
  const gpuMiB = gpuTotalGiB * 1024;
  if (rule.method === "reserved-tiers") {
    const tier = tierFor(rule.tiers, gpuMiB);
    const reservedMiB = (tier.baseGiB + tier.perParallelRankGiB * tp * pp) * 1024;
    return {
      memFractionStatic: round3((gpuMiB - reservedMiB) / gpuMiB),
      chunkedPrefillSize: options.chunkedPrefillSize ?? null,
      cudaGraphMaxBs: options.cudaGraphMaxBs ?? null,
      reservedMiB,
    };
  }
  const tier = tierFor(rule.tiers, gpuMiB);
  const chunked = options.chunkedPrefillSize ?? tier.chunkedPrefillSize;
  const maxBs =
    options.cudaGraphMaxBs ?? (tp < 4 ? tier.cudaGraphMaxBs.tpBelow4 : tier.cudaGraphMaxBs.tpAtLeast4);
  let reservedMiB =
    rule.baseMiB +
    Math.max(chunked, rule.minActivationTokens) * rule.activationMiBPerToken +
    maxBs * rule.cudaGraphMiBPerBs +
    tp * pp * rule.parallelMiBPerRank;
  if (rule.prefillGraphs) {
    const maxTokens = options.mla ? rule.prefillGraphs.mlaMaxTokens : chunked;
    reservedMiB += expandSizes(rule.prefillGraphs.sizes, maxTokens).length * rule.prefillGraphs.miBPerSize;
  }
  if (gpuMiB > rule.floorAboveGiB * 1024) reservedMiB = Math.max(reservedMiB, rule.floorMiB);
  return {
    memFractionStatic: round3((gpuMiB - reservedMiB) / gpuMiB),
    chunkedPrefillSize: chunked,
    cudaGraphMaxBs: maxBs,
    reservedMiB,
  };
}

/** The default --mem-fraction-static alone (see resolveSglangGpuDefaults). */
export function defaultMemFractionStatic(
  spec: SglangSpec,
  gpuTotalGiB: number | null,
  tp: number,
  options: SglangGpuDefaultsOptions = {},
): number {
  return resolveSglangGpuDefaults(spec, gpuTotalGiB, tp, options).memFractionStatic;
}

function formatGiB(bytes: number): string {
  return (bytes / GiB).toFixed(2);
}

function validate(input: SglangMemoryInput): void {
  const { args } = input;
  const positiveInt = (flag: string, v: number) => {
    if (!Number.isSafeInteger(v) || v < 1) invalid(flag, "a positive integer", v);
  };
  positiveInt("--tp-size", args.tensorParallelSize);
  positiveInt("--pp-size", args.pipelineParallelSize);
  positiveInt("--context-length", args.maxModelLen);
  const mfs = args.gpuMemoryUtilization;
  if (!(mfs > 0 && mfs < 1)) invalid("--mem-fraction-static", "a number between 0 and 1 (exclusive)", mfs);
  if (!(Number.isFinite(input.weightBytesTotal) && input.weightBytesTotal >= 0)) {
    invalid("weight bytes", "a non-negative number", input.weightBytesTotal);
  }
}

/** Plans one SGLang TP rank (the engine takes the minimum over ranks; ranks are identical here). */
export function planSglangMemory(input: SglangMemoryInput): SglangMemoryPlan {
  validate(input);
  const { arch, gpu, args, spec } = input;
  const tp = args.tensorParallelSize;
  const pp = args.pipelineParallelSize;
  const mfs = args.gpuMemoryUtilization;
  const notes: string[] = [];

  const kvBytes = sglangKvDtypeBytes(spec, args.kvCacheDtype, args.dtype);
  const layersPerRank = Math.ceil(arch.numLayers / pp);
  const cs = cellSize(arch, arch.layers.slice(0, layersPerRank), tp, kvBytes);

  const overheadGiB = (tp * pp > 1 ? spec.startupOverhead.multiGpu : spec.startupOverhead.singleGpu).giB;
  const freeBeforeLoad = (gpu.freeBytes ?? gpu.totalBytes) - overheadGiB * GiB;
  const weights = estimateSglangWeightsPerRank(arch, input.weightBytesTotal, tp, pp);
  const rest = freeBeforeLoad - weights - freeBeforeLoad * (1 - mfs);
  notes.push(
    `rest = free before load ${formatGiB(freeBeforeLoad)} GiB - weights ${formatGiB(weights)} GiB - ` +
      `${formatGiB(freeBeforeLoad)} x (1 - ${mfs}) = ${formatGiB(rest)} GiB (profile_max_num_token)`,
  );
  let kvRest = rest;
  if (cs.hasLinear && rest > 0) {
    // handle_max_mamba_cache: the recurrent-state pool takes ratio / (1 + ratio) of the rest.
    const ratio = spec.mamba.fullMemoryRatio;
    notes.push(`mamba state pool takes ${ratio}/(1+${ratio}) of the rest (--mamba-full-memory-ratio)`);
    kvRest = rest / (1 + ratio);
  }

  let tokens = kvRest > 0 && cs.cell > 0 ? Math.floor(Math.floor(kvRest) / cs.cell) : 0;
  let swaTokens: number | null = null;
  let poolBytes = tokens * cs.cell;
  const page = spec.pageSize;
  if (cs.full > 0 && cs.swa > 0 && tokens > 0) {
    // set_num_tokens_hybrid_swa: full_tokens = tokens x cell / (F + r x S), swa = full x r.
    const r = spec.hybridSwa.swaFullTokensRatio;
    const full = Math.floor((tokens * cs.cell) / (cs.full + r * cs.swa));
    tokens = Math.floor(full / page) * page;
    swaTokens = Math.floor(Math.floor(full * r) / page) * page;
    poolBytes = tokens * cs.full + swaTokens * cs.swa;
    notes.push(`hybrid sliding-window pools: ${tokens} full-attention tokens, ${swaTokens} window tokens`);
  } else {
    tokens = Math.floor(tokens / page) * page;
    poolBytes = tokens * cs.cell;
  }

  const failures: MemoryPlan["failures"] = [];
  if (weights > freeBeforeLoad) {
    failures.push({
      kind: "weights-do-not-fit",
      message:
        `torch.OutOfMemoryError: CUDA out of memory while loading weights: ${formatGiB(weights)} GiB per rank ` +
        `but ${formatGiB(Math.max(0, freeBeforeLoad))} GiB free (increase --tp-size or use a quantized checkpoint)`,
    });
  } else if (tokens <= 0) {
    failures.push({
      kind: "no-kv-memory",
      message: `Not enough memory. Please try to increase --mem-fraction-static. Current value: self.server_args.mem_fraction_static=${mfs}`,
    });
  } else if (tokens < args.maxModelLen) {
    notes.push(
      `the pool holds ${tokens} tokens, fewer than --context-length ${args.maxModelLen}: SGLang starts, but caps a request's input at ${tokens - 1} tokens`,
    );
  }

  const mrr = spec.maxRunningRequests;
  const maxRunningRequestsDefault = Math.min(
    Math.max(Math.floor((tokens / args.maxModelLen) * mrr.perContext), mrr.min),
    mrr.max,
  );
  const headroom = freeBeforeLoad * (1 - mfs);
  notes.push(
    `${formatGiB(headroom)} GiB per rank stays outside --mem-fraction-static for activations, CUDA graphs and the req-to-token table (not modelled further)`,
  );

  return {
    engine: "sglang",
    engineVersion: input.engineVersion ?? spec.versions,
    perRank: {
      total: gpu.totalBytes,
      requested: freeBeforeLoad * mfs,
      weights,
      activation: headroom,
      nonTorch: gpu.totalBytes - freeBeforeLoad,
      cudaGraph: 0,
      kvCache: Math.max(0, poolBytes),
    },
    kv: {
      tokens: Math.max(0, tokens),
      maxConcurrency: Math.max(0, tokens) / args.maxModelLen,
      bytesPerTokenPerGpu: cs.cell,
      numBlocks: Math.max(0, tokens) / page,
      blockSize: page,
    },
    failures,
    notes,
    sglang: {
      memFractionStatic: mfs,
      freeBeforeLoadBytes: freeBeforeLoad,
      restBytes: rest,
      maxTotalNumTokens: Math.max(0, tokens),
      swaTokens,
      maxRunningRequestsDefault,
      kvHeadsPerRank: cs.kvHeadsPerRank,
      layersPerRank,
    },
  };
}
