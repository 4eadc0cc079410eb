import type { VllmSpec } from "../engines/vllm-spec.js";
import type { Architecture } from "../model/architecture.js";
import type { EngineFailure, GpuMemoryTarget, MemoryPlan, ResolvedEngineArgs } from "./types.js";
import { kvDtypeBytes } from "./vllm-args.js";
import { buildKvLayout, bytesPerRequest, estimateMaxModelLen, type KvLayout, kvCapacity } from "./vllm-kv.js";
import { estimateRankWeights, layersPerStage } from "./vllm-weights.js";

const GIB = 2 ** 30;
const gib = (bytes: number) => (bytes / GIB).toFixed(2);

export interface VllmMemoryInput {
  arch: Architecture;
  gpu: GpuMemoryTarget;
  args: ResolvedEngineArgs;
  spec: VllmSpec;
  engineVersion: string;
}

/**
 * Peak activation of the profiling run (GPUModelRunner.profile_run + _dummy_sampler_run): the
 * sampler works on min(max_num_seqs, max_num_batched_tokens) rows of full-vocabulary logits while
 * the [tokens x hidden] hidden states are alive. The coefficient is calibrated per release
 * (docs/reference/vllm-memory-accounting.md section 3.3); the forward pass of very wide MLPs at a
 * small vocabulary can exceed it, so the larger of the two is taken.
 */
export function estimateActivationBytes(
  arch: Architecture,
  args: ResolvedEngineArgs,
  spec: VllmSpec,
): number {
  const tokens = args.maxNumBatchedTokens;
  const rows = Math.min(args.maxNumSeqs, tokens);
  const dtype = args.dtype === "float32" ? 4 : 2;
  const sampler = spec.samplerBytesPerRowVocab * rows * arch.vocabSize + 2 * tokens * arch.hiddenSize;
  const intermediate = arch.moe
    ? Math.max(arch.intermediateSize, arch.moe.expertIntermediateSize * arch.moe.expertsPerToken)
    : arch.intermediateSize;
  const forward = tokens * ((3 * intermediate) / args.tensorParallelSize + 4 * arch.hiddenSize) * dtype;
  return Math.max(sampler, forward);
}

/**
 * CUDA-graph memory (first order): graph pools for the ~50-70 captured batch sizes. llm-d measured
 * -0.9 to +1.0 GiB on H100 at v0.11.0; 0.5 GiB is used until per-model calibration exists.
 */
const CUDA_GRAPH_BYTES = 0.5 * GIB;

/** KV layout of the most loaded pipeline stage (the one with the most layers). */
export function vllmKvLayout(arch: Architecture, args: ResolvedEngineArgs, spec: VllmSpec): KvLayout {
  const stageLayers = layersPerStage(arch.numLayers, args.pipelineParallelSize);
  const heaviest = Math.max(...stageLayers);
  const stageStart = stageLayers.slice(0, stageLayers.indexOf(heaviest)).reduce((a, b) => a + b, 0);
  return buildKvLayout({
    arch,
    layers: arch.layers.slice(stageStart, stageStart + heaviest),
    tensorParallelSize: args.tensorParallelSize,
    kvDtypeBytes: kvDtypeBytes(args.kvCacheDtype, args.dtype),
    blockSize: args.blockSize,
    maxModelLen: args.maxModelLen,
    maxNumBatchedTokens: args.maxNumBatchedTokens,
    // the hybrid allocator arrived with the profiled budget (0.9.1); chunked local attention turns it off
    hybridAllocator: spec.kvBudget === "profiled" && !arch.attention.chunkSize,
  });
}

/** vLLM V1's startup memory accounting on the most loaded rank (docs/reference/vllm-memory-accounting.md section 11). */
export function planVllmMemory(input: VllmMemoryInput): MemoryPlan {
  const { arch, gpu, args, spec } = input;
  const notes: string[] = [];
  const failures: EngineFailure[] = [];
  const tp = args.tensorParallelSize;
  const total = gpu.totalBytes;
  const requested = total * args.gpuMemoryUtilization;

  const onlineFp8 = args.quantization === "fp8" && !arch.quantization;
  const weights = estimateRankWeights({
    arch,
    tensorParallelSize: tp,
    pipelineParallelSize: args.pipelineParallelSize,
    dtype: args.dtype,
    onlineQuantization: onlineFp8 ? "fp8" : null,
    computeCapabilityMajor: gpu.computeCapability ? Number(gpu.computeCapability.split(".")[0]) : 0,
  });
  const activation = estimateActivationBytes(arch, args, spec);
  const nonTorch = (tp > 1 ? spec.nonTorchGiB.tpN : spec.nonTorchGiB.tp1) * GIB + (args.reservedBytes ?? 0);
  const cudaGraph =
    args.enforceEager || !spec.cudaGraphInBudget || gpu.vendor === "amd" ? 0 : CUDA_GRAPH_BYTES;
  if (!args.enforceEager && cudaGraph === 0) {
    notes.push(
      "CUDA graphs are captured after the KV cache is sized: they use the memory left by gpu_memory_utilization",
    );
  }
  const contextCharge = spec.kvBudget === "absolute-peak" ? spec.cudaContextGiB * GIB : 0;
  const kvAvailable = requested - weights.bytes - activation - nonTorch - cudaGraph - contextCharge;

  if (spec.kvBudget === "profiled" && gpu.freeBytes !== null && gpu.freeBytes < requested) {
    failures.push({
      kind: "insufficient-free-memory",
      message: `Free memory on device (${gib(gpu.freeBytes)}/${gib(total)} GiB) on startup is less than desired GPU memory utilization (${args.gpuMemoryUtilization}, ${gib(requested)} GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.`,
    });
  }
  if (weights.bytes > (gpu.freeBytes ?? total)) {
    failures.push({
      kind: "weights-do-not-fit",
      message: `CUDA out of memory while loading the weights: ${gib(weights.bytes)} GiB per GPU does not fit in ${gib(gpu.freeBytes ?? total)} GiB`,
    });
  }

  const layout = vllmKvLayout(arch, args, spec);
  if (layout.blockSize !== args.blockSize) {
    notes.push(
      `attention block size raised to ${layout.blockSize} tokens so one page holds a linear-attention state`,
    );
  }
  const capacity = kvCapacity(layout, Math.max(0, kvAvailable), args.maxModelLen, spec);
  if (kvAvailable <= 0) {
    failures.push({
      kind: "no-kv-memory",
      message:
        "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.",
    });
  } else {
    const needed = bytesPerRequest(layout, args.maxModelLen);
    if (needed > kvAvailable) {
      const estimated = estimateMaxModelLen(layout, kvAvailable, args.maxModelLen);
      failures.push({
        kind: "max-model-len-too-large",
        message: `To serve at least one request with the models's max seq len (${args.maxModelLen}), (${gib(needed)} GiB KV cache is needed, which is larger than the available KV cache memory (${gib(kvAvailable)} GiB). Based on the available memory, the estimated maximum model length is ${estimated}. Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`,
        estimatedMaxModelLen: estimated,
      });
    }
  }
  return {
    engine: "vllm",
    engineVersion: input.engineVersion,
    perRank: {
      total,
      requested,
      weights: weights.bytes,
      activation,
      nonTorch: nonTorch + contextCharge,
      cudaGraph,
      kvCache: kvAvailable,
    },
    kv: {
      tokens: capacity.tokens,
      maxConcurrency: capacity.maxConcurrency,
      bytesPerTokenPerGpu: layout.bytesPerToken,
      numBlocks: capacity.numBlocks,
      blockSize: layout.blockSize,
    },
    failures,
    notes,
  };
}
