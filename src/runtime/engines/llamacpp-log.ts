/**
 * llama-server (llama.cpp) startup log lines → typed events. Buffer sizes come per device
 * ("load_tensors:        CUDA0 model buffer size =  4403.49 MiB", "llama_kv_cache: CUDA0 KV buffer
 * size = 1024.00 MiB"); older builds print "llm_load_tensors: CUDA0 buffer size" and
 * "llama_kv_cache_init: CUDA0 KV buffer size". Newer builds may prefix a timestamp and level.
 */
import { parseCommonFailure } from "./common-failures.js";
import { type EngineLogEvent, failureEvent, phaseEvent } from "./log-events.js";
import { cleanLogLine, readLogNumber } from "./log-line-text.js";
import { foldStartupEvent, initialStartupState, type StartupState } from "./startup-state.js";

export type LlamacppLogEvent = EngineLogEvent;

const BUFFER =
  /\b((?:CUDA|ROCm|HIP|Vulkan|Metal|SYCL|CPU|CANN|MUSA|RPC)[\w[\]:.]*)\s+(model |KV |compute |input |output )?buffer size\s*=\s*([\d.]+)\s*MiB/;
const N_CTX = /\bn_ctx\s*=\s*(\d+)/;
const LISTENING = /server is listening on (https?:\/\/\S+)/;
const BUILD = /\bbuild(?::| =)?\s*(\d+) \(([0-9a-f]+)\)/;

/** One llama-server log line → its event, or null when the line says nothing we track. Never throws. */
export function parseLlamacppLine(line: string): LlamacppLogEvent | null {
  const text = cleanLogLine(line);
  if (text === "") return null;
  return parseLlamacppFailure(text) ?? parseLlamacppFigure(text) ?? parseLlamacppPhase(text);
}

function parseLlamacppFailure(text: string): LlamacppLogEvent | null {
  const unknownArch = /unknown model architecture: '([^']+)'/.exec(text);
  if (unknownArch?.[1])
    return failureEvent("unsupported-architecture", text, { architectures: [unknownArch[1]] });
  const common = parseCommonFailure(text);
  if (common) return common;
  if (/failed to load model|exiting due to model loading error|error loading model/.test(text)) {
    return failureEvent("model-load-failed", text);
  }
  return null;
}

function parseLlamacppFigure(text: string): LlamacppLogEvent | null {
  const buffer = BUFFER.exec(text);
  const mib = readLogNumber(buffer?.[3]);
  if (buffer?.[1] && mib !== null) {
    const label = (buffer[2] ?? "").trim();
    // "llm_load_tensors: CUDA0 buffer size" (no label) is the model buffer in older builds;
    // input/output buffers are small host staging buffers, not tracked.
    if (label === "input" || label === "output") return null;
    const kind = label === "KV" ? "kv" : label === "compute" ? "compute" : "model";
    return { type: "device-buffer", device: buffer[1], kind, mib };
  }
  const nCtx = readLogNumber(N_CTX.exec(text)?.[1]);
  if (nCtx !== null) return { type: "kv-tokens", tokens: nCtx };
  const build = BUILD.exec(text);
  if (build?.[1] && build[2]) return { type: "engine-version", version: `b${build[1]} (${build[2]})` };
  return null;
}

function parseLlamacppPhase(text: string): LlamacppLogEvent | null {
  const listening = LISTENING.exec(text);
  if (listening?.[1]) return { type: "ready", url: listening[1] };
  if (/all slots are idle|"HTTP server listening"|HTTP server listening \|/.test(text))
    return { type: "ready", url: null };
  if (/main: model loaded|"message":"model loaded"|initializing slots/.test(text))
    return phaseEvent("starting-server");
  if (/llama_kv_cache|llama_context:|llama_new_context_with_model/.test(text))
    return phaseEvent("allocating-kv-cache");
  if (
    /load_tensors:|llama_model_loader: loaded meta data|main: loading model|load_model: loading model/.test(
      text,
    )
  ) {
    return phaseEvent("loading-weights");
  }
  if (/ggml_cuda_init|ggml_vulkan|system info|HTTP server is listening/.test(text))
    return phaseEvent("initializing-engine");
  return null;
}

/** Folds a whole llama-server log (or what has been read so far) into a startup state. */
export function readLlamacppStartup(
  lines: Iterable<string>,
  state: StartupState = initialStartupState(),
): StartupState {
  let current = state;
  for (const line of lines) {
    const event = parseLlamacppLine(line);
    if (event) current = foldStartupEvent(current, event);
  }
  return current;
}
