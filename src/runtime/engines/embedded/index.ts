/**
 * The embedded engine: llama.cpp through node-llama-cpp (an optional dependency), served by our own
 * OpenAI-compatible HTTP server (server.ts) that runs as a child process and speaks like
 * llama-server — same endpoints, same startup log lines, same /metrics names — so the supervisor
 * treats it as engine "llamacpp". This module is what the supervisor imports: cheap, no
 * node-llama-cpp import, only paths and argv.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** GET this path: 503 while the model loads, 200 {"status":"ok"} when ready (as llama-server). */
export const EMBEDDED_HEALTH_PATH = "/health";
/** GET this path lists the served model name once ready. */
export const EMBEDDED_MODELS_PATH = "/v1/models";
/** Prometheus text at this path, every metric named with EMBEDDED_METRIC_PREFIX (llama-server's names). */
export const EMBEDDED_METRICS_PATH = "/metrics";
export const EMBEDDED_METRIC_PREFIX = "llamacpp:";
/** The npm package the server loads llama.cpp from, and the version package.json pins. */
export const EMBEDDED_ENGINE_PACKAGE = "node-llama-cpp";
export const EMBEDDED_ENGINE_VERSION = "3.22.1";

export type EmbeddedGpuMode = "auto" | "off";

export interface EmbeddedServerArgvOptions {
  modelPath: string;
  host: string;
  port: number;
  /** Model name served on /v1/models and echoed in responses. */
  alias: string;
  /** Total context (KV cache) tokens, shared by the parallel sequences; default: the model's training context. */
  ctxSize?: number;
  /** Requests decoded together (sequences in one context); more wait in a queue. Default 1. */
  parallel?: number;
  /** CPU threads for decoding; default os.availableParallelism(). */
  threads?: number;
  /** "auto" uses a GPU build of llama.cpp when one is installed; "off" forces the CPU. Default "auto". */
  gpu?: EmbeddedGpuMode;
}

/**
 * The built server.js: the sibling of this module when running from dist/, else (this module
 * loaded from src/, as in tests) the package's dist/runtime/engines/embedded/server.js. Both
 * src/ and dist/ sit four levels below the package root.
 */
export function embeddedServerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), "server.js");
  if (here.endsWith(".js") && existsSync(sibling)) return sibling;
  return fileURLToPath(new URL("../../../../dist/runtime/engines/embedded/server.js", import.meta.url));
}

/** Whether node-llama-cpp can be resolved from this package (it is an optional dependency). */
export async function isEmbeddedEngineInstalled(): Promise<boolean> {
  try {
    createRequire(import.meta.url).resolve(EMBEDDED_ENGINE_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

/** `[node, server.js, ...flags]`, ready for spawn without a shell. */
export function embeddedServerArgv(options: EmbeddedServerArgvOptions): string[] {
  const argv = [
    process.execPath,
    embeddedServerScript(),
    "--model",
    options.modelPath,
    "--host",
    options.host,
    "--port",
    String(options.port),
    "--alias",
    options.alias,
  ];
  if (options.ctxSize !== undefined) argv.push("--ctx-size", String(options.ctxSize));
  if (options.parallel !== undefined) argv.push("--parallel", String(options.parallel));
  if (options.threads !== undefined) argv.push("--threads", String(options.threads));
  if (options.gpu !== undefined) argv.push("--gpu", options.gpu);
  return argv;
}
