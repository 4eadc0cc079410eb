/**
 * vLLM startup log lines → typed events. Covers the spellings of V0 (v0.5–v0.10) and V1 (v0.7+),
 * see docs/reference/vllm-memory-accounting.md §1.2 for the "Model loading took" variants.
 * Lines may carry vLLM's prefix ("(EngineCore_DP0 pid=1) INFO 01-01 21:29:57 [file.py:375] ");
 * the patterns match anywhere in the line, so prefixes and docker/kubectl timestamps do not matter.
 */
import { parseCommonFailure } from "./common-failures.js";
import { type EngineLogEvent, failureEvent, phaseEvent } from "./log-events.js";
import { cleanLogLine, readLastPercent, readLogNumber, toGiB } from "./log-line-text.js";
import { foldStartupEvent, initialStartupState, type StartupState } from "./startup-state.js";

export type VllmLogEvent = EngineLogEvent;

const NUM = String.raw`(-?[\d,]*\.?\d+)`;

const WEIGHTS = new RegExp(
  String.raw`(?:Model loading took|Loading model weights took):?\**\s*${NUM}\s*(GiB|GB)(?: memory)?(?: and ${NUM} ?s)?`,
);
const KV_AVAILABLE = new RegExp(String.raw`Available KV cache memory:?\**\s*${NUM}\s*(GiB|GB)`);
const KV_PROFILED = new RegExp(`kv_cache_size=${NUM}(GiB|GB)`);
const KV_REST = new RegExp(String.raw`rest of the memory reserved for KV Cache is ${NUM}\s*(GiB|GB)`);
const KV_TOKENS = new RegExp(String.raw`GPU KV cache size:?\**\s*${NUM} tokens`);
const KV_BLOCKS = new RegExp(`# (?:GPU|CUDA) blocks: ${NUM}(?:, # CPU blocks: ${NUM})?`);
const CONCURRENCY = new RegExp(String.raw`Maximum concurrency for ${NUM} tokens per request:?\**\s*${NUM}x`);
const GRAPH_DONE = new RegExp(`Graph capturing finished in ${NUM} secs?, took ${NUM} (GiB|GB)`);
const MAX_LEN_OLD = new RegExp(
  String.raw`max seq len \(${NUM}\) is larger than the maximum number of tokens that can be stored in KV cache \(${NUM}\)`,
);
const MAX_LEN_NEW = new RegExp(
  String.raw`To serve at least one request with the models?'s max seq len \(${NUM}\)`,
);
const ESTIMATED_LEN = new RegExp(`estimated maximum model length is ${NUM}`);
const AVAILABLE_IN_ERROR = new RegExp(String.raw`available KV cache memory \(${NUM} GiB\)`);
const URL = /(https?:\/\/[^\s"']+)/;

/** One vLLM log line → its event, or null when the line says nothing we track. Never throws. */
export function parseVllmLine(line: string): VllmLogEvent | null {
  const text = cleanLogLine(line);
  if (text === "") return null;
  return parseVllmFailure(text) ?? parseVllmFigure(text) ?? parseVllmPhase(text);
}

function parseVllmFailure(text: string): VllmLogEvent | null {
  if (text.includes("No available memory for the cache blocks"))
    return failureEvent("no-kv-cache-memory", text);
  const oldLen = MAX_LEN_OLD.exec(text);
  if (oldLen) {
    // Before the estimate existed, the KV capacity in tokens was the longest length that fits.
    const kvCacheTokens = readLogNumber(oldLen[2]);
    return failureEvent("max-model-len-too-large", text, {
      maxModelLen: readLogNumber(oldLen[1]),
      estimatedMaxModelLen: kvCacheTokens,
      kvCacheTokens,
    });
  }
  const newLen = MAX_LEN_NEW.exec(text);
  if (newLen) {
    return failureEvent("max-model-len-too-large", text, {
      maxModelLen: readLogNumber(newLen[1]),
      estimatedMaxModelLen: readLogNumber(ESTIMATED_LEN.exec(text)?.[1]),
      availableKvGiB: readLogNumber(AVAILABLE_IN_ERROR.exec(text)?.[1]),
    });
  }
  if (/on startup is less than desired GPU memory utilization/.test(text)) {
    return failureEvent("insufficient-free-memory", text);
  }
  const common = parseCommonFailure(text);
  if (common) return common;
  if (
    /Engine core initialization failed|EngineCore failed to start|Engine process failed to start/.test(text)
  ) {
    return failureEvent("engine-init-failed", text);
  }
  return null;
}

function parseVllmFigure(text: string): VllmLogEvent | null {
  const weights = WEIGHTS.exec(text);
  if (weights) {
    const value = readLogNumber(weights[1]);
    if (value !== null) {
      return {
        type: "weights-loaded",
        weightsGiB: toGiB(value, weights[2] ?? "GiB"),
        seconds: readLogNumber(weights[3]),
      };
    }
  }
  const kv = KV_AVAILABLE.exec(text) ?? KV_PROFILED.exec(text) ?? KV_REST.exec(text);
  const kvGiB = readLogNumber(kv?.[1]);
  if (kv && kvGiB !== null) return { type: "kv-memory", availableKvGiB: toGiB(kvGiB, kv[2] ?? "GiB") };
  const tokens = readLogNumber(KV_TOKENS.exec(text)?.[1]);
  if (tokens !== null) return { type: "kv-tokens", tokens };
  const blocks = KV_BLOCKS.exec(text);
  const gpuBlocks = readLogNumber(blocks?.[1]);
  if (gpuBlocks !== null) return { type: "kv-blocks", gpuBlocks, cpuBlocks: readLogNumber(blocks?.[2]) };
  const concurrency = CONCURRENCY.exec(text);
  const perRequest = readLogNumber(concurrency?.[1]);
  const times = readLogNumber(concurrency?.[2]);
  if (perRequest !== null && times !== null) {
    return { type: "max-concurrency", tokensPerRequest: perRequest, concurrency: times };
  }
  const graph = GRAPH_DONE.exec(text);
  if (graph) {
    const memory = readLogNumber(graph[2]);
    return {
      type: "cuda-graph-done",
      seconds: readLogNumber(graph[1]),
      memoryGiB: memory === null ? null : toGiB(memory, graph[3] ?? "GiB"),
    };
  }
  const version = /vLLM API server version (\S+)/.exec(text)?.[1];
  if (version) return { type: "engine-version", version };
  return null;
}

function parseVllmPhase(text: string): VllmLogEvent | null {
  if (/Application startup complete/.test(text)) return { type: "ready", url: null };
  if (/Uvicorn running on/.test(text)) return { type: "ready", url: URL.exec(text)?.[1] ?? null };
  if (/Starting vLLM API server/.test(text)) {
    const url = URL.exec(text)?.[1];
    return url ? { type: "listening", url } : phaseEvent("starting-server");
  }
  if (/init engine \(profile, create kv cache, warmup model\) took/.test(text))
    return phaseEvent("starting-server");
  if (/Capturing (?:CUDA graphs?|cudagraphs?|the model for CUDA graphs)/i.test(text)) {
    return phaseEvent("capturing-cuda-graphs", readLastPercent(text));
  }
  if (/Memory profiling takes|Memory profiling results|determine_num_available_blocks/.test(text)) {
    return phaseEvent("profiling-memory");
  }
  if (/Loading (?:safetensors|pt|bin|npcache)? ?checkpoint shards/.test(text)) {
    return phaseEvent("loading-weights", readLastPercent(text));
  }
  if (
    /Starting to load model|Loading weights on|Loading model weights|Using model weights format/.test(text)
  ) {
    return phaseEvent("loading-weights");
  }
  if (/Initializing an? (?:V1 )?LLM engine/.test(text)) return phaseEvent("initializing-engine");
  return null;
}

/** Folds a whole vLLM log (or what has been read so far) into a startup state. */
export function readVllmStartup(
  lines: Iterable<string>,
  state: StartupState = initialStartupState(),
): StartupState {
  let current = state;
  for (const line of lines) {
    const event = parseVllmLine(line);
    if (event) current = foldStartupEvent(current, event);
  }
  return current;
}
