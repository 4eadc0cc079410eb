/**
 * Typed events read from an engine's startup log (vLLM, SGLang, llama-server). Every engine parser
 * turns one log line into at most one of these; `foldStartupEvent` folds them into a StartupState.
 * Sizes are GiB (2^30 bytes): vLLM and SGLang both divide by 2^30, even where they print "GB".
 */

/** Startup phases in the order an engine goes through them (a progress display shows these). */
export const STARTUP_PHASES = [
  "starting",
  "initializing-engine",
  "loading-weights",
  "profiling-memory",
  "allocating-kv-cache",
  "capturing-cuda-graphs",
  "starting-server",
  "ready",
] as const;
export type StartupPhase = (typeof STARTUP_PHASES)[number];

/** Why an engine failed to start, as far as its log tells. */
export type FailureCause =
  | "cuda-out-of-memory"
  | "no-kv-cache-memory"
  | "max-model-len-too-large"
  | "insufficient-free-memory"
  | "unsupported-architecture"
  | "trust-remote-code-required"
  | "hf-access-denied"
  | "model-not-found"
  | "address-in-use"
  | "model-load-failed"
  | "engine-init-failed";

/** Causes that only say "it failed" and are reported only when nothing more specific was seen. */
export const GENERIC_FAILURE_CAUSES: ReadonlySet<FailureCause> = new Set([
  "model-load-failed",
  "engine-init-failed",
]);

export interface PhaseEvent {
  type: "phase";
  phase: StartupPhase;
  /** Progress within the phase, 0-100, when the line is a progress bar. */
  percent: number | null;
}

export interface EngineVersionEvent {
  type: "engine-version";
  version: string;
}

export interface WeightsLoadedEvent {
  type: "weights-loaded";
  /** Memory the weights took per GPU rank (vLLM "Model loading took X GiB", SGLang "mem usage"). */
  weightsGiB: number;
  seconds: number | null;
}

export interface KvMemoryEvent {
  type: "kv-memory";
  /** vLLM "Available KV cache memory: X GiB" (or the older spellings of the same budget). */
  availableKvGiB: number;
}

export interface KvTokensEvent {
  type: "kv-tokens";
  /** vLLM "GPU KV cache size: N tokens"; SGLang max_total_num_tokens; llama.cpp n_ctx. */
  tokens: number;
}

export interface KvBlocksEvent {
  type: "kv-blocks";
  /** Older vLLM (V0): "# GPU blocks: N, # CPU blocks: M". */
  gpuBlocks: number;
  cpuBlocks: number | null;
}

export interface KvCacheAllocatedEvent {
  type: "kv-cache-allocated";
  /** SGLang "KV Cache is allocated. #tokens: N, K size: X GB, V size: Y GB". */
  tokens: number | null;
  kvGiB: number;
}

export interface MaxConcurrencyEvent {
  type: "max-concurrency";
  tokensPerRequest: number;
  concurrency: number;
}

export interface CudaGraphDoneEvent {
  type: "cuda-graph-done";
  seconds: number | null;
  memoryGiB: number | null;
}

export interface DeviceBufferEvent {
  type: "device-buffer";
  /** llama.cpp backend buffer, e.g. "CUDA0", "ROCm0", "CPU", "CUDA_Host". */
  device: string;
  kind: "model" | "kv" | "compute";
  mib: number;
}

export interface ListeningEvent {
  type: "listening";
  /** The server bound its port ("Starting vLLM API server 0 on http://…", "Uvicorn running on …"). */
  url: string;
}

export interface ReadyEvent {
  type: "ready";
  url: string | null;
}

export interface FailureEvent {
  type: "failure";
  cause: FailureCause;
  /** The log line (trimmed), for showing to the user. */
  message: string;
  maxModelLen: number | null;
  /** vLLM's "estimated maximum model length" (or the KV token capacity in older versions). */
  estimatedMaxModelLen: number | null;
  architectures: string[] | null;
  port: number | null;
  /** KV figures some failure messages carry (vLLM's max-model-len errors), folded into the actuals. */
  availableKvGiB: number | null;
  kvCacheTokens: number | null;
}

export type EngineLogEvent =
  | PhaseEvent
  | EngineVersionEvent
  | WeightsLoadedEvent
  | KvMemoryEvent
  | KvTokensEvent
  | KvBlocksEvent
  | KvCacheAllocatedEvent
  | MaxConcurrencyEvent
  | CudaGraphDoneEvent
  | DeviceBufferEvent
  | ListeningEvent
  | ReadyEvent
  | FailureEvent;

export function phaseEvent(phase: StartupPhase, percent: number | null = null): PhaseEvent {
  return { type: "phase", phase, percent };
}

export function failureEvent(
  cause: FailureCause,
  message: string,
  facts: Partial<Omit<FailureEvent, "type" | "cause" | "message">> = {},
): FailureEvent {
  return {
    type: "failure",
    cause,
    message: message.trim().slice(0, 500),
    maxModelLen: facts.maxModelLen ?? null,
    estimatedMaxModelLen: facts.estimatedMaxModelLen ?? null,
    architectures: facts.architectures ?? null,
    port: facts.port ?? null,
    availableKvGiB: facts.availableKvGiB ?? null,
    kvCacheTokens: facts.kvCacheTokens ?? null,
  };
}
