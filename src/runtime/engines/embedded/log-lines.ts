/**
 * The startup and failure lines the embedded server prints on stderr, worded as llama-server words
 * them so src/runtime/engines/llamacpp-log.ts reads them without knowing this server exists (each
 * form is in test/fixtures/engines/captured-lines.json, captured from real llama-server builds):
 *
 *   main: HTTP server is listening, hostname: H, port: P       -> phase initializing-engine
 *   main: loading model                                        -> phase loading-weights
 *   (llama.cpp's own lines through node-llama-cpp's logger: "load_tensors: CPU_Mapped model buffer
 *    size = …", "llama_context: n_ctx = …", "llama_kv_cache: CPU KV buffer size = …")
 *   main: model loaded                                         -> phase starting-server
 *   main: server is listening on http://H:P - starting the main loop   -> ready
 *   main: couldn't bind HTTP server socket, hostname: H, port: P       -> failure address-in-use
 *   main: exiting due to model loading error                   -> failure model-load-failed
 */

export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export const LOG = {
  httpListening: (host: string, port: number) =>
    `main: HTTP server is listening, hostname: ${host}, port: ${port}`,
  engine: (version: string) => `main: embedded engine: llama.cpp through node-llama-cpp ${version}`,
  systemInfo: (threads: number, cores: number, backend: string, info: string) =>
    `system_info: n_threads = ${threads} / ${cores} | backend = ${backend} | ${info.trim()}`,
  loadingModel: () => "main: loading model",
  modelLoaded: () => "main: model loaded",
  chatFormat: (format: string) => `main: chat format: ${format}`,
  slots: (parallel: number, perSequence: number) =>
    `main: ${parallel} parallel sequence${parallel === 1 ? "" : "s"}, ${perSequence} context tokens each`,
  ready: (host: string, port: number) =>
    `main: server is listening on ${httpUrl(host, port)} - starting the main loop`,
  bindFailed: (host: string, port: number, detail: string) =>
    `main: couldn't bind HTTP server socket, hostname: ${host}, port: ${port} (${detail})`,
  httpFailed: (host: string, port: number, detail: string) =>
    `main: failed to start the HTTP server on ${host}:${port}: ${detail}`,
  httpExit: () => "main: exiting due to HTTP server error",
  modelFailed: (path: string, reason: string) => `main: failed to load model, '${path}': ${reason}`,
  modelExit: () => "main: exiting due to model loading error",
  engineMissing: (packageName: string, version: string) =>
    `main: the embedded engine needs ${packageName}, which is not installed (it is an optional dependency of servepilot); install it with: npm install ${packageName}@${version}`,
  engineFailed: (reason: string) => `main: failed to initialize llama.cpp: ${reason}`,
  shuttingDown: (signal: string) => `main: received ${signal}, cleaning up before exit...`,
  forcedExit: () => "main: received a second signal, terminating immediately",
} as const;
