/**
 * Shared shapes of the per-engine memory models (vLLM, SGLang, llama.cpp). Everything is per GPU
 * rank unless a name says otherwise; sizes in bytes inside core, GiB (2^30) only in reports.
 */

export type EngineName = "vllm" | "sglang" | "llamacpp";

/** The GPU a rank runs on, as the planner needs it (from the catalog or detection). */
export interface GpuMemoryTarget {
  vendor: "nvidia" | "amd";
  /** Total device memory as the runtime reports it (cudaMemGetInfo total), bytes. */
  totalBytes: number;
  /** Free memory at engine start (detected GPUs); null = assume all of it but the CUDA context. */
  freeBytes: number | null;
  computeCapability: string | null;
  gfxTarget: string | null;
  /** Native FP8 support (cc >= 8.9, MI300 and newer). */
  fp8: boolean;
}

/** Engine settings after defaults are resolved: every field set. */
export interface ResolvedEngineArgs {
  tensorParallelSize: number;
  pipelineParallelSize: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  /** Compute / activation dtype: "bfloat16" | "float16" | "float32". */
  dtype: string;
  /** Weight quantization method in effect (checkpoint's, or online "fp8"), null for none. */
  quantization: string | null;
  /** KV cache dtype as the engine names it: "auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16"... */
  kvCacheDtype: string;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  blockSize: number;
  enforceEager: boolean;
  /** Memory the user reserves per GPU for something else (--overhead-gb), bytes; counted as non-torch. */
  reservedBytes?: number;
}

/** A startup failure the engine would raise, with the engine's own wording. */
export interface EngineFailure {
  kind: "insufficient-free-memory" | "no-kv-memory" | "max-model-len-too-large" | "weights-do-not-fit";
  message: string;
  /** For max-model-len-too-large: the engine's estimated maximum model length. */
  estimatedMaxModelLen?: number;
}

/** Per-rank memory, bytes. `kvCache` is what the engine reports as available for KV. */
export interface RankMemory {
  total: number;
  requested: number;
  weights: number;
  activation: number;
  nonTorch: number;
  cudaGraph: number;
  kvCache: number;
}

export interface KvCapacity {
  /** What the engine prints as the KV cache size in tokens (engine-wide). */
  tokens: number;
  /** Requests of maxModelLen tokens that fit at once. */
  maxConcurrency: number;
  /** KV bytes one token costs on one rank (all its layers, before window caps). */
  bytesPerTokenPerGpu: number;
  numBlocks: number;
  blockSize: number;
}

export interface MemoryPlan {
  engine: EngineName;
  engineVersion: string;
  perRank: RankMemory;
  kv: KvCapacity;
  failures: EngineFailure[];
  /** How each figure was obtained (formula, calibration, assumption), for --explain. */
  notes: string[];
}

/** Engine settings the user fixed; anything absent is chosen (by the engine's defaults or the planner). */
export interface UserEngineSettings {
  tensorParallelSize?: number;
  pipelineParallelSize?: number;
  maxModelLen?: number;
  gpuMemoryUtilization?: number;
  dtype?: string;
  quantization?: string | null;
  kvCacheDtype?: string;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  blockSize?: number;
  enforceEager?: boolean;
  /** Memory per GPU kept for something else (--overhead-gb), bytes. */
  reservedBytes?: number;
}
