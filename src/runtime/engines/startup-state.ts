/**
 * Folds engine log events into what a launcher shows: the phase reached (for a progress display),
 * the figures the engine reported (to compare with the plan), readiness, and why it failed.
 * Pure: the same events always give the same state.
 */
import {
  type EngineLogEvent,
  type FailureEvent,
  GENERIC_FAILURE_CAUSES,
  STARTUP_PHASES,
  type StartupPhase,
} from "./log-events.js";

/** What the engine reported about memory and capacity; null until the log says it. */
export interface StartupActuals {
  engineVersion: string | null;
  weightsGiB: number | null;
  weightsSeconds: number | null;
  availableKvGiB: number | null;
  kvCacheTokens: number | null;
  gpuBlocks: number | null;
  maxConcurrency: number | null;
  maxConcurrencyTokensPerRequest: number | null;
  cudaGraphGiB: number | null;
}

export interface StartupState {
  status: "starting" | "ready" | "failed";
  /** The furthest phase reached (phases never go back, even when TP ranks log out of order). */
  phase: StartupPhase;
  /** Progress inside `phase` (0-100) when the last line for it was a progress bar. */
  phasePercent: number | null;
  url: string | null;
  actual: StartupActuals;
  /** Every distinct failure seen, first occurrence of each cause, in log order. */
  failures: FailureEvent[];
  /** Per-device llama.cpp buffers (MiB), keyed "CUDA0 model", "CUDA0 kv", … */
  deviceBuffersMiB: Readonly<Record<string, number>>;
}

export function initialStartupState(): StartupState {
  return {
    status: "starting",
    phase: "starting",
    phasePercent: null,
    url: null,
    actual: {
      engineVersion: null,
      weightsGiB: null,
      weightsSeconds: null,
      availableKvGiB: null,
      kvCacheTokens: null,
      gpuBlocks: null,
      maxConcurrency: null,
      maxConcurrencyTokensPerRequest: null,
      cudaGraphGiB: null,
    },
    failures: [],
    deviceBuffersMiB: {},
  };
}

/** The most specific failure seen (a generic "engine init failed" only when nothing else). */
export function primaryFailure(state: StartupState): FailureEvent | null {
  return state.failures.find((f) => !GENERIC_FAILURE_CAUSES.has(f.cause)) ?? state.failures[0] ?? null;
}

export function foldStartupEvent(state: StartupState, event: EngineLogEvent): StartupState {
  const actual = state.actual;
  switch (event.type) {
    case "phase":
      return advancePhase(state, event.phase, event.percent);
    case "engine-version":
      return { ...state, actual: { ...actual, engineVersion: event.version } };
    case "weights-loaded": {
      const next = advancePhase(state, "loading-weights", 100);
      return { ...next, actual: { ...actual, weightsGiB: event.weightsGiB, weightsSeconds: event.seconds } };
    }
    case "kv-memory": {
      const next = advancePhase(state, "profiling-memory", null);
      return { ...next, actual: { ...actual, availableKvGiB: event.availableKvGiB } };
    }
    case "kv-tokens":
      return {
        ...advancePhase(state, "allocating-kv-cache", null),
        actual: { ...actual, kvCacheTokens: event.tokens },
      };
    case "kv-blocks":
      return {
        ...advancePhase(state, "allocating-kv-cache", null),
        actual: { ...actual, gpuBlocks: event.gpuBlocks },
      };
    case "kv-cache-allocated": {
      const next = advancePhase(state, "allocating-kv-cache", null);
      const kvCacheTokens = event.tokens ?? actual.kvCacheTokens;
      return { ...next, actual: { ...actual, availableKvGiB: event.kvGiB, kvCacheTokens } };
    }
    case "max-concurrency":
      return {
        ...state,
        actual: {
          ...actual,
          maxConcurrency: event.concurrency,
          maxConcurrencyTokensPerRequest: event.tokensPerRequest,
        },
      };
    case "cuda-graph-done": {
      const next = advancePhase(state, "capturing-cuda-graphs", 100);
      return { ...next, actual: { ...actual, cudaGraphGiB: event.memoryGiB ?? actual.cudaGraphGiB } };
    }
    case "device-buffer":
      return foldDeviceBuffer(state, event.device, event.kind, event.mib);
    case "listening":
      return { ...advancePhase(state, "starting-server", null), url: event.url };
    case "ready": {
      if (state.status === "failed") return state;
      const next = advancePhase(state, "ready", null);
      return { ...next, status: "ready", url: event.url ?? state.url };
    }
    case "failure": {
      if (state.failures.some((seen) => seen.cause === event.cause)) return state;
      const reported = {
        ...actual,
        availableKvGiB: actual.availableKvGiB ?? event.availableKvGiB,
        kvCacheTokens: actual.kvCacheTokens ?? event.kvCacheTokens,
      };
      return { ...state, status: "failed", failures: [...state.failures, event], actual: reported };
    }
  }
}

function advancePhase(state: StartupState, phase: StartupPhase, percent: number | null): StartupState {
  const order = STARTUP_PHASES.indexOf(phase) - STARTUP_PHASES.indexOf(state.phase);
  if (order < 0) return state;
  if (order === 0) return { ...state, phasePercent: percent ?? state.phasePercent };
  return { ...state, phase, phasePercent: percent };
}

/**
 * llama.cpp reports buffers per device; the GPU totals (every device but the host ones) become
 * weightsGiB and availableKvGiB, summed over GPUs (llama.cpp splits layers, not tensors).
 */
function foldDeviceBuffer(state: StartupState, device: string, kind: string, mib: number): StartupState {
  const deviceBuffersMiB = { ...state.deviceBuffersMiB, [`${device} ${kind}`]: mib };
  const gpuTotalGiB = (wanted: string): number | null => {
    const entries = Object.entries(deviceBuffersMiB).filter(([key]) => {
      const [name, bufferKind] = key.split(" ");
      return bufferKind === wanted && name !== undefined && !/^CPU|_Host$/i.test(name);
    });
    return entries.length === 0 ? null : entries.reduce((sum, [, value]) => sum + value, 0) / 1024;
  };
  const phase = kind === "model" ? "loading-weights" : "allocating-kv-cache";
  const next = advancePhase(state, phase, null);
  return {
    ...next,
    deviceBuffersMiB,
    actual: {
      ...state.actual,
      weightsGiB: gpuTotalGiB("model") ?? state.actual.weightsGiB,
      availableKvGiB: gpuTotalGiB("kv") ?? state.actual.availableKvGiB,
    },
  };
}
