/**
 * SGLang (`python -m sglang.launch_server`) startup log lines → typed events. Lines look like
 * "[2025-12-29 18:33:03 TP0] Load weight end. type=…, avail mem=13.81 GB, mem usage=1.52 GB.";
 * SGLang's "GB" are 2^30 bytes (get_available_gpu_memory divides by 1 << 30).
 */
import { parseCommonFailure } from "./common-failures.js";
import { type EngineLogEvent, failureEvent, phaseEvent } from "./log-events.js";
import { cleanLogLine, readLastPercent, readLogNumber } from "./log-line-text.js";
import { foldStartupEvent, initialStartupState, type StartupState } from "./startup-state.js";

export type SglangLogEvent = EngineLogEvent;

const NUM = String.raw`(-?[\d,]*\.?\d+)`;
const WEIGHTS = new RegExp(String.raw`Load weight end\..*?mem usage=${NUM}\s*GB`);
// "KV Cache is allocated. #tokens: N, K size: …" and, newer, "… allocated. dtype: torch.bfloat16, #tokens: …".
const KV_ALLOCATED = new RegExp(
  String.raw`KV Cache is allocated\..*?K size: ${NUM}\s*GB, V size: ${NUM}\s*GB`,
);
const KV_ALLOCATED_TOKENS = new RegExp(`#tokens: ${NUM}`);
const MAX_TOKENS = new RegExp(`max_total_num_tokens=${NUM}`);
const GRAPH_DONE = new RegExp(
  String.raw`Capture cuda graph end\. Time elapsed: ${NUM}\s*s(?:\. mem usage=${NUM}\s*GB)?`,
);
const URL = /(https?:\/\/[^\s"']+)/;

/** One SGLang log line → its event, or null when the line says nothing we track. Never throws. */
export function parseSglangLine(line: string): SglangLogEvent | null {
  const text = cleanLogLine(line);
  if (text === "") return null;
  return parseSglangFailure(text) ?? parseSglangFigure(text) ?? parseSglangPhase(text);
}

function parseSglangFailure(text: string): SglangLogEvent | null {
  if (/Not enough memory\. Please try to increase --mem-fraction-static/.test(text)) {
    return failureEvent("no-kv-cache-memory", text);
  }
  const common = parseCommonFailure(text);
  if (common) return common;
  if (/Scheduler hit an exception|Initialization failed\. (?:warmup|scheduler)/.test(text)) {
    return failureEvent("engine-init-failed", text);
  }
  return null;
}

function parseSglangFigure(text: string): SglangLogEvent | null {
  const weights = readLogNumber(WEIGHTS.exec(text)?.[1]);
  if (weights !== null) return { type: "weights-loaded", weightsGiB: weights, seconds: null };
  const kv = KV_ALLOCATED.exec(text);
  const k = readLogNumber(kv?.[1]);
  const v = readLogNumber(kv?.[2]);
  if (k !== null && v !== null) {
    return {
      type: "kv-cache-allocated",
      tokens: readLogNumber(KV_ALLOCATED_TOKENS.exec(text)?.[1]),
      kvGiB: k + v,
    };
  }
  const tokens = readLogNumber(MAX_TOKENS.exec(text)?.[1]);
  if (tokens !== null) return { type: "kv-tokens", tokens };
  const graph = GRAPH_DONE.exec(text);
  if (graph)
    return { type: "cuda-graph-done", seconds: readLogNumber(graph[1]), memoryGiB: readLogNumber(graph[2]) };
  return null;
}

function parseSglangPhase(text: string): SglangLogEvent | null {
  if (/The server is fired up and ready to roll/.test(text)) return { type: "ready", url: null };
  if (/Uvicorn running on/.test(text)) {
    const url = URL.exec(text)?.[1];
    return url ? { type: "listening", url } : phaseEvent("starting-server");
  }
  if (/Capture cuda graph begin|Capturing batches/.test(text)) {
    return phaseEvent("capturing-cuda-graphs", readLastPercent(text));
  }
  if (/Memory pool end|Using KV cache dtype/.test(text)) return phaseEvent("allocating-kv-cache");
  if (/Loading (?:safetensors|pt|bin)? ?checkpoint shards|Multi-thread loading shards/.test(text)) {
    return phaseEvent("loading-weights", readLastPercent(text));
  }
  if (/Load weight (?:begin|end)/.test(text)) return phaseEvent("loading-weights");
  if (/Init torch distributed begin/.test(text)) return phaseEvent("initializing-engine");
  if (/server_args=ServerArgs\(/.test(text)) return phaseEvent("starting");
  return null;
}

/** Folds a whole SGLang log (or what has been read so far) into a startup state. */
export function readSglangStartup(
  lines: Iterable<string>,
  state: StartupState = initialStartupState(),
): StartupState {
  let current = state;
  for (const line of lines) {
    const event = parseSglangLine(line);
    if (event) current = foldStartupEvent(current, event);
  }
  return current;
}
