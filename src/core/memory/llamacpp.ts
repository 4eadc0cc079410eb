import type { LlamaCppSpec } from "../engines/llamacpp-spec.js";
import { ServepilotError } from "../errors.js";
import type { Architecture, LayerSpec } from "../model/architecture.js";
import { countParams } from "../model/count-params.js";
import { GGML_TYPE_SIZES, ggufTensorBytes } from "../model/gguf-config.js";
import type { EngineFailure, GpuMemoryTarget, MemoryPlan, RankMemory, ResolvedEngineArgs } from "./types.js";

/**
 * First-order model of what llama-server allocates on each GPU, after ggml-org/llama.cpp at tag b10573
 * (data/engines/llamacpp.yaml links every rule): weights of the offloaded layers (`llama_model::load_tensors`,
 * src/llama-model.cpp: the input embedding always stays on the CPU; layers are split across GPUs in
 * proportion to their free memory with --split-mode layer), the KV cache of those layers
 * (`llama_kv_cache` in src/llama-kv-cache.cpp: `n_embd_k_gqa x size(type_k) + n_embd_v_gqa x size(type_v)`
 * per cell and layer, MLA keeps one latent row and no V; src/llama-kv-cache-iswa.cpp caps sliding-window
 * layers), and an estimate of the compute buffer (see estimateComputeBytes).
 */

const MiB = 2 ** 20;

export type FlashAttentionMode = "auto" | "on" | "off";

export interface LlamaCppMemoryInput {
  arch: Architecture;
  /** GGUF tensor bytes when known (ggufTensorBytes), else an estimate. */
  weightBytesTotal: number;
  gpu: GpuMemoryTarget;
  /** Identical GPUs used by llama-server (0 = CPU only). */
  gpuCount: number;
  /** maxModelLen = -c (total, shared by the slots; 0 = training context), maxNumSeqs = --parallel, kvCacheDtype = -ctk (and -ctv unless cacheTypeV). */
  args: ResolvedEngineArgs;
  /** -ngl: repeating layers + output layer to offload, or "all". */
  nGpuLayers: number | "all";
  spec: LlamaCppSpec;
  /** The GGUF's complete tensor list: splits weights per layer exactly instead of evenly. */
  ggufTensors?: ReadonlyArray<{ name: string; shape: readonly number[]; ggmlType: string }>;
  /** -ctv when it differs from -ctk. */
  cacheTypeV?: string;
  /** -fa (default auto, which CUDA and ROCm builds turn on). */
  flashAttention?: FlashAttentionMode;
  /** --kv-unified. */
  kvUnified?: boolean;
  /** --swa-full. */
  swaFull?: boolean;
  /** -ub. */
  nUbatch?: number;
  engineVersion?: string;
}

export interface LlamaCppContext {
  /** Cells of the full-attention cache, all slots together (what -c becomes after padding). */
  nCtx: number;
  /** Context of one slot. */
  nCtxSeq: number;
  slots: number;
  kvUnified: boolean;
  /** KV streams: 1 when unified, else one per slot. */
  streams: number;
  nBatch: number;
  nUbatch: number;
}

export interface LlamaCppDevice {
  /** Backend name as llama.cpp prints it: CUDA0, ROCm1, ... */
  name: string;
  repeatingLayers: number;
  outputLayer: boolean;
  weights: number;
  kvCache: number;
  compute: number;
  /** Memory in use before llama.cpp allocates (CUDA context, driver). */
  overhead: number;
  /** Free memory llama.cpp can allocate from. */
  available: number;
}

export interface LlamaCppMemoryPlan extends MemoryPlan {
  llamacpp: {
    context: LlamaCppContext;
    /** Sliding-window cache cells per stream, null when the model has no such layers or --swa-full. */
    swaCellsPerStream: number | null;
    flashAttention: boolean;
    cacheTypeK: string;
    cacheTypeV: string;
    gpuRepeatingLayers: number;
    outputOnGpu: boolean;
    devices: LlamaCppDevice[];
    /** What stays in host memory: CPU layers, the input embedding, their KV cache. */
    host: { weights: number; kvCache: number };
  };
}

function invalid(flag: string, expected: string, got: unknown): never {
  throw new ServepilotError("INVALID_ARGUMENT", `${flag} must be ${expected}, got ${JSON.stringify(got)}`, {
    details: { flag, expected, received: got ?? null },
  });
}

function pad(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** llama_context: -c padded, split between slots unless unified (llama-context.cpp L288-L304 @b10573). */
export function resolveLlamaCppContext(
  spec: LlamaCppSpec,
  nCtx: number,
  parallel: number,
  kvUnified: boolean,
  nUbatch = spec.defaults.nUbatch,
): LlamaCppContext {
  let ctx = pad(nCtx, spec.context.padTo);
  let nCtxSeq = ctx;
  if (!kvUnified) {
    nCtxSeq = pad(Math.floor(ctx / parallel), spec.context.padTo);
    ctx = nCtxSeq * parallel;
  }
  const nBatch = Math.min(ctx, spec.defaults.nBatch);
  return {
    nCtx: ctx,
    nCtxSeq,
    slots: parallel,
    kvUnified,
    streams: kvUnified ? 1 : parallel,
    nBatch,
    nUbatch: Math.min(nBatch, nUbatch),
  };
}

/** ggml_row_size: whole blocks of the cache type (-ctk / -ctv names, e.g. "q8_0" = 34 bytes per 32). */
export function llamaCppRowBytes(cacheType: string, elements: number): number {
  const size = GGML_TYPE_SIZES[cacheType.toUpperCase()];
  if (!size) invalid("--cache-type-k/--cache-type-v", "a ggml type name", cacheType);
  return Math.ceil(elements / size.blockSize) * size.typeSize;
}

/**
 * Device index of each layer (0..n_layer-1) and of the output layer (index n_layer); -1 = CPU.
 * `llama_model::load_tensors`: i_gpu_start = n_layer + 1 - ngl (output first, >= b7475) or n_layer - ngl,
 * then layer il goes to the first GPU whose cumulative share exceeds (il - i_gpu_start) / act_gpu_layers.
 */
export function assignLlamaCppLayers(
  spec: LlamaCppSpec,
  nLayer: number,
  nGpuLayers: number | "all",
  gpuCount: number,
): number[] {
  const ngl = nGpuLayers === "all" ? nLayer + 1 : nGpuLayers;
  const start = Math.max(spec.offload.outputLayerFirst ? nLayer + 1 - ngl : nLayer - ngl, 0);
  const act = gpuCount === 0 ? 0 : Math.min(ngl, nLayer + 1);
  const splits = Array.from({ length: gpuCount }, (_, i) => Math.fround((i + 1) / gpuCount));
  return Array.from({ length: nLayer + 1 }, (_, il) => {
    if (il < start || il - start >= act) return -1;
    const x = Math.fround((il - start) / act);
    const gpu = splits.findIndex((s) => s > x);
    return gpu === -1 ? gpuCount - 1 : gpu;
  });
}

interface WeightSplit {
  input: number;
  output: number;
  /** Part of `output` that duplicates the input embedding (tied models). */
  outputDuplicate: number;
  layers: number[];
}

/** Bytes by tensor name: token_embd stays on the CPU; output.weight (or a copy of token_embd when tied). */
function splitByTensors(
  tensors: NonNullable<LlamaCppMemoryInput["ggufTensors"]>,
  nLayer: number,
): WeightSplit | null {
  const split: WeightSplit = {
    input: 0,
    output: 0,
    outputDuplicate: 0,
    layers: new Array<number>(nLayer).fill(0),
  };
  let embedding = 0;
  let hasOutput = false;
  for (const t of tensors) {
    const bytes = ggufTensorBytes([t]);
    if (bytes === null) return null;
    const block = /^blk\.(\d+)\./.exec(t.name);
    if (block) {
      const il = Math.min(Number(block[1]), nLayer - 1);
      split.layers[il] = (split.layers[il] ?? 0) + bytes;
    } else if (t.name.startsWith("output")) {
      split.output += bytes;
      hasOutput ||= t.name === "output.weight";
    } else {
      split.input += bytes;
      if (t.name === "token_embd.weight") embedding = bytes;
    }
  }
  if (!hasOutput) {
    // tied: llama.cpp loads a duplicate of token_embd as the output tensor (TENSOR_DUPLICATED)
    split.output += embedding;
    split.outputDuplicate = embedding;
  }
  return split;
}

/** Even split by parameter counts: embedding and lm_head at the checkpoint's average bytes per parameter. */
function splitByParams(arch: Architecture, weightBytesTotal: number): WeightSplit {
  const { total, components } = countParams(arch);
  const text = total - components.vision;
  const perParam = text > 0 ? weightBytesTotal / text : 0;
  const input = components.embeddings * perParam;
  const lmHead = components.lmHead * perParam;
  const output = arch.tieWordEmbeddings ? input : lmHead;
  const perLayer = (weightBytesTotal - input - lmHead) / arch.numLayers;
  return {
    input,
    output,
    outputDuplicate: arch.tieWordEmbeddings ? input : 0,
    layers: new Array<number>(arch.numLayers).fill(perLayer),
  };
}

/** KV bytes one cell costs in one layer (K row + V row). */
function layerCellBytes(arch: Architecture, layer: LayerSpec, typeK: string, typeV: string): number {
  const a = arch.attention;
  if (layer.attention === "mla" && a.mla)
    return llamaCppRowBytes(typeK, a.mla.kvLoraRank + a.mla.qkRopeHeadDim);
  if (layer.attention === "linear" || layer.attention === "cross") return 0;
  return (
    llamaCppRowBytes(typeK, a.numKvHeads * a.headDim) + llamaCppRowBytes(typeV, a.numKvHeads * a.vHeadDim)
  );
}

/** Recurrent state of one linear-attention layer and sequence (f32 r/s buffers, llama-memory-recurrent.cpp). */
function layerStateBytes(arch: Architecture, layer: LayerSpec): number {
  const l = arch.attention.linear;
  if (layer.attention !== "linear" || !l) return 0;
  const convDim = 2 * l.numKeyHeads * l.keyHeadDim + l.numValueHeads * l.valueHeadDim;
  return (convDim * (l.convKernelSize - 1) + l.numValueHeads * l.keyHeadDim * l.valueHeadDim) * 4;
}

interface ComputeTerms {
  layers: number;
  output: number;
}

/**
 * Compute-buffer estimate (f32 activations of the worst-case ubatch graph that ggml-alloc reserves):
 * layer devices hold max(attention, FFN) working sets, the output device also the logits of
 * min(n_ubatch, n_batch) outputs (`sched_reserve`, llama-context.cpp @b10573) plus one hidden state.
 * Calibration: Llama-3-8B, n_ubatch 512 -> 128256 x 512 x 4 + 512 x 4096 x 4 B = 258.5 MiB, the
 * "CUDA0 compute buffer size = 258.50 MiB" llama.cpp prints. Without flash attention the KQ scores
 * (n_ctx_seq x n_ubatch x n_head f32) usually dominate.
 */
function estimateComputeBytes(arch: Architecture, ctx: LlamaCppContext, flash: boolean): ComputeTerms {
  const t = Math.min(ctx.nCtx, ctx.nUbatch);
  const h = arch.hiddenSize;
  const a = arch.attention;
  const moe = arch.moe;
  const ffn = moe
    ? Math.max(
        moe.expertsPerToken * moe.expertIntermediateSize + moe.sharedIntermediateSize,
        arch.intermediateSize,
      )
    : arch.intermediateSize;
  const attention = flash
    ? t * (a.numHeads * a.headDim * 2 + 2 * h) * 4
    : t * ctx.nCtxSeq * a.numHeads * 4 + t * 2 * h * 4;
  const layers = Math.max(attention, t * (2 * ffn + 2 * h) * 4);
  const outputs = Math.min(t, ctx.nBatch);
  return { layers, output: Math.max(layers, outputs * arch.vocabSize * 4 + t * h * 4) };
}

function resolveCacheType(spec: LlamaCppSpec, value: string, fallback: string, flag: string): string {
  const type = value === "auto" ? fallback : value.toLowerCase();
  if (!spec.cacheTypes.includes(type)) invalid(flag, `one of ${spec.cacheTypes.join(", ")}`, value);
  return type;
}

function validate(input: LlamaCppMemoryInput): void {
  const { args } = input;
  if (!Number.isSafeInteger(input.gpuCount) || input.gpuCount < 0)
    invalid("GPU count", "a non-negative integer", input.gpuCount);
  if (input.nGpuLayers !== "all" && (!Number.isSafeInteger(input.nGpuLayers) || input.nGpuLayers < 0)) {
    invalid("-ngl", 'a non-negative integer or "all"', input.nGpuLayers);
  }
  if (!Number.isSafeInteger(args.maxModelLen) || args.maxModelLen < 0)
    invalid("-c", "a non-negative integer", args.maxModelLen);
  if (!Number.isSafeInteger(args.maxNumSeqs) || args.maxNumSeqs < 1)
    invalid("--parallel", "a positive integer", args.maxNumSeqs);
  if (!(Number.isFinite(input.weightBytesTotal) && input.weightBytesTotal >= 0)) {
    invalid("weight bytes", "a non-negative number", input.weightBytesTotal);
  }
}

function formatMiB(bytes: number): string {
  return (bytes / MiB).toFixed(2);
}

function isWindowed(layer: LayerSpec): boolean {
  return layer.attention === "sliding" || layer.attention === "chunked";
}

interface Distribution {
  placement: number[];
  weights: WeightSplit;
  compute: ComputeTerms;
  /** KV cells a layer holds, all streams together. */
  cellsFor: (layer: LayerSpec) => number;
  types: [string, string];
  slots: number;
  overhead: number;
}

/** Puts each layer's weights and KV (and the output layer) on its GPU or on the host. */
function distribute(input: LlamaCppMemoryInput, plan: Distribution) {
  const { arch, gpu } = input;
  const available = (gpu.freeBytes ?? gpu.totalBytes) - plan.overhead;
  const prefix = gpu.vendor === "amd" ? "ROCm" : "CUDA";
  const devices: LlamaCppDevice[] = Array.from({ length: input.gpuCount }, (_, i) => ({
    name: `${prefix}${i}`,
    repeatingLayers: 0,
    outputLayer: false,
    weights: 0,
    kvCache: 0,
    compute: 0,
    overhead: plan.overhead,
    available,
  }));
  const host = { weights: plan.weights.input, kvCache: 0 };
  const cellBytes = new Array<number>(input.gpuCount).fill(0);
  arch.layers.forEach((layer, il) => {
    const cell = layerCellBytes(arch, layer, ...plan.types);
    const kv = cell * plan.cellsFor(layer) + layerStateBytes(arch, layer) * plan.slots;
    const index = plan.placement[il] ?? -1;
    const device = devices[index];
    if (!device) {
      host.weights += plan.weights.layers[il] ?? 0;
      host.kvCache += kv;
      return;
    }
    device.repeatingLayers += 1;
    device.weights += plan.weights.layers[il] ?? 0;
    device.kvCache += kv;
    device.compute = Math.max(device.compute, plan.compute.layers);
    cellBytes[index] = (cellBytes[index] ?? 0) + cell;
  });
  const output = devices[plan.placement[arch.numLayers] ?? -1];
  if (output) {
    output.outputLayer = true;
    output.weights += plan.weights.output;
    output.compute = Math.max(output.compute, plan.compute.output);
  } else {
    host.weights += plan.weights.output - plan.weights.outputDuplicate;
  }
  return { devices, host, cellBytes };
}

function deviceFailure(d: LlamaCppDevice, index: number): EngineFailure | null {
  const oom = (bytes: number) =>
    `ggml_backend_cuda_buffer_type_alloc_buffer: allocating ${formatMiB(bytes)} MiB on device ${index}: cudaMalloc failed: out of memory`;
  if (d.weights > d.available) {
    return {
      kind: "weights-do-not-fit",
      message: `${oom(d.weights)}; llama_model_load: error loading model: unable to allocate ${d.name} buffer`,
    };
  }
  if (d.weights + d.kvCache > d.available) {
    return {
      kind: "no-kv-memory",
      message: `${oom(d.kvCache)}; llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache`,
    };
  }
  if (d.weights + d.kvCache + d.compute > d.available) {
    return {
      kind: "insufficient-free-memory",
      message: `${oom(d.compute)}; failed to allocate compute pp buffers`,
    };
  }
  return null;
}

export function planLlamaCppMemory(input: LlamaCppMemoryInput): LlamaCppMemoryPlan {
  validate(input);
  const { arch, args, spec, gpu } = input;
  const notes: string[] = [];
  const nLayer = arch.numLayers;

  const typeK = resolveCacheType(spec, args.kvCacheDtype, spec.defaults.cacheTypeK, "--cache-type-k");
  const typeV = resolveCacheType(
    spec,
    input.cacheTypeV ?? args.kvCacheDtype,
    spec.defaults.cacheTypeV,
    "--cache-type-v",
  );
  const flash = (input.flashAttention ?? "auto") !== "off";
  if (!flash && GGML_TYPE_SIZES[typeV.toUpperCase()]?.blockSize !== 1) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--cache-type-v ${typeV} needs flash attention: llama.cpp refuses a quantized V cache with -fa off`,
      { hint: "use -fa on (or auto), or --cache-type-v f16" },
    );
  }

  let slots = args.maxNumSeqs;
  let unified = input.kvUnified ?? false;
  if (spec.autoParallel.trigger === "parallel-1" && slots === 1 && !unified) {
    slots = spec.autoParallel.slots;
    unified = true;
    notes.push(
      `this build turns --parallel 1 into ${slots} slots sharing one unified KV cache (pass -kvu to keep 1 slot)`,
    );
  }
  const nCtxRequested =
    args.maxModelLen === 0
      ? (arch.maxContext ?? invalid("-c", "set (the model has no training context)", 0))
      : args.maxModelLen;
  const ctx = resolveLlamaCppContext(spec, nCtxRequested, slots, unified, input.nUbatch);
  if (arch.maxContext !== null && ctx.nCtxSeq > arch.maxContext) {
    notes.push(
      `n_ctx_seq (${ctx.nCtxSeq}) > n_ctx_train (${arch.maxContext}): llama.cpp warns of a possible training context overflow`,
    );
  }

  // llama_kv_cache_iswa: only models that mix sliding-window and full layers get the capped cache.
  const window = arch.attention.slidingWindow ?? arch.attention.chunkSize;
  const mixed = arch.layers.some(isWindowed) && arch.layers.some((l) => l.attention === "full");
  const swaCells =
    mixed && window !== null && !input.swaFull
      ? pad(Math.min(ctx.nCtxSeq, window * (unified ? slots : 1) + ctx.nUbatch), spec.swaCache.padTo)
      : null;

  let split = input.ggufTensors ? splitByTensors(input.ggufTensors, nLayer) : null;
  if (input.ggufTensors && !split) {
    notes.push("a tensor has a ggml type of unknown size: weights split evenly by parameter count");
  }
  split ??= splitByParams(arch, input.weightBytesTotal);
  const overhead = spec.deviceOverhead.miB * MiB;
  const { devices, host, cellBytes } = distribute(input, {
    placement: assignLlamaCppLayers(spec, nLayer, input.nGpuLayers, input.gpuCount),
    weights: split,
    compute: estimateComputeBytes(arch, ctx, flash),
    cellsFor: (layer) => (isWindowed(layer) && swaCells !== null ? swaCells : ctx.nCtxSeq) * ctx.streams,
    types: [typeK, typeV],
    slots,
    overhead,
  });

  const failures = devices.flatMap((d, i) => deviceFailure(d, i) ?? []);
  const requested = (d: LlamaCppDevice) => d.weights + d.kvCache + d.compute;
  let worst = 0;
  devices.forEach((d, i) => {
    const free = d.available - requested(d);
    notes.push(
      `${d.name}: ${d.repeatingLayers} layers${d.outputLayer ? " + output" : ""}, weights ${formatMiB(d.weights)} MiB, KV ${formatMiB(d.kvCache)} MiB, compute ~${formatMiB(d.compute)} MiB`,
    );
    if (free >= 0 && free < spec.fitMargin.miB * MiB)
      notes.push(
        `${d.name}: ${formatMiB(free)} MiB left, under the ${spec.fitMargin.miB} MiB llama.cpp's --fit keeps free`,
      );
    if (requested(d) > requested(devices[worst] ?? d)) worst = i;
  });
  if (!flash) notes.push("flash attention off: the compute buffer holds the full KQ score matrix");
  if (input.gpuCount > 0 && (host.kvCache > 0 || !devices.some((d) => d.outputLayer)))
    notes.push(
      "partial offload: llama.cpp may also copy CPU-resident weights to the GPU for large batches (op offload), not modelled",
    );

  const top = devices[worst];
  const perRank: RankMemory = top
    ? {
        total: gpu.totalBytes,
        requested: requested(top),
        weights: top.weights,
        activation: top.compute,
        nonTorch: overhead,
        cudaGraph: 0,
        kvCache: top.kvCache,
      }
    : {
        total: gpu.totalBytes,
        requested: 0,
        weights: 0,
        activation: 0,
        nonTorch: 0,
        cudaGraph: 0,
        kvCache: 0,
      };
  return {
    engine: "llamacpp",
    engineVersion: input.engineVersion ?? spec.versions,
    perRank,
    kv: {
      tokens: ctx.nCtx,
      maxConcurrency: ctx.slots,
      bytesPerTokenPerGpu: cellBytes[worst] ?? 0,
      numBlocks: ctx.nCtx,
      blockSize: 1,
    },
    failures,
    notes,
    llamacpp: {
      context: ctx,
      swaCellsPerStream: swaCells,
      flashAttention: flash,
      cacheTypeK: typeK,
      cacheTypeV: typeV,
      gpuRepeatingLayers: devices.reduce((n, d) => n + d.repeatingLayers, 0),
      outputOnGpu: devices.some((d) => d.outputLayer),
      devices,
      host,
    },
  };
}
