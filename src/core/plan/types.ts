import type { EngineName } from "../memory/types.js";
import type { Architecture } from "../model/architecture.js";

export type BatchingMode = "latency" | "throughput" | "balanced";

/** The workload a deployment is planned for (seed: WorkloadInput). */
export interface Workload {
  promptTokens: number;
  genTokens: number;
  concurrency: number;
  batchingMode: BatchingMode;
  /**
   * "closed-loop" (default): each finished request is replaced at once, prefills interleave with
   * decodes (serving benchmarks at a fixed concurrency). "static-batch": all requests start together
   * and finish together (llama-bench, offline batch runs).
   */
  arrival?: "closed-loop" | "static-batch";
}

export type { UserEngineSettings } from "../memory/types.js";

export interface Range {
  low: number;
  expected: number;
  high: number;
}

export interface Recommendation {
  setting: string;
  value: string | number | boolean;
  why: string;
}

/** `plan --json` data (DESIGN.md "plan --json contract"). Sizes in GiB per GPU rank. */
export interface Plan {
  fits: boolean;
  reasons: string[];
  model: { id: string; architecture: Architecture; params: { total: number; active: number } };
  hardware: {
    gpu: string;
    gpuId: string;
    count: number;
    memoryPerGpuGiB: number;
    nodes: number;
    gpusPerNode: number;
  };
  config: {
    engine: EngineName;
    engineVersion: string;
    tensorParallelSize: number;
    pipelineParallelSize: number;
    replicas: number;
    maxModelLen: number;
    gpuMemoryUtilization: number;
    dtype: string;
    quantization: string | null;
    kvCacheDtype: string;
    maxNumSeqs: number;
    maxNumBatchedTokens: number;
    blockSize: number;
    enforceEager: boolean;
  };
  memory: {
    perGpu: {
      totalGiB: number;
      requestedGiB: number;
      weightsGiB: number;
      activationGiB: number;
      nonTorchGiB: number;
      cudaGraphGiB: number;
      kvCacheGiB: number;
    };
  };
  kvCache: {
    tokens: number;
    maxConcurrency: number;
    bytesPerTokenPerGpu: number;
    blockSize: number;
    numBlocks: number;
  };
  performance: {
    ttftMs: Range;
    tpotMs: Range;
    /** Aggregate over the concurrent requests. */
    outputTokensPerSecond: Range;
    /** What one request sees (1 / TPOT). */
    perRequestTokensPerSecond: Range;
    /** Throughput and latency as load grows, up to the KV-limited batch. */
    curve: Array<{
      concurrency: number;
      tpotMs: number;
      ttftMs: number;
      outputTokensPerSecond: number;
      perRequestTokensPerSecond: number;
    }>;
    /** Where adding load stops paying. */
    saturation: { concurrency: number; reason: string };
    assumptions: string[];
  };
  /** Maximum concurrency at context lengths from 1k to the model maximum (same config otherwise). */
  tradeoff: Array<{ maxModelLen: number; maxConcurrency: number; fits: boolean }>;
  recommendations: Recommendation[];
  warnings: string[];
  notes: string[];
  artifacts: { serveCommand: string; serveArgv: string[] };
}
