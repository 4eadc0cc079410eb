/**
 * Entry point of the embedded engine, run as its own process:
 *   node dist/runtime/engines/embedded/server.js --model FILE.gguf [--host H] [--port N] [--alias NAME]
 *     [--ctx-size N] [--parallel N] [--threads N] [--gpu auto|off]
 * Like llama-server it binds its port first (GET /health answers 503 while the model loads), logs
 * on stderr in llama-server's words (log-lines.ts), and stops on SIGTERM / SIGINT: stop accepting,
 * abort generations, free the model, exit 0 (a second signal exits 1 at once).
 * Exit codes: 0 stopped by a signal, 1 startup failure, 2 bad command line.
 */
import { open } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { createEmbeddedRequestHandler } from "./http-routes.js";
import { EMBEDDED_ENGINE_PACKAGE, EMBEDDED_ENGINE_VERSION } from "./index.js";
import {
  type EmbeddedEngine,
  LlamaBackendError,
  loadEmbeddedEngine,
  type NodeLlamaCppModule,
} from "./llama-engine.js";
import { LOG } from "./log-lines.js";
import { EmbeddedServerMetrics } from "./metrics.js";
import { type EmbeddedServerOptions, parseEmbeddedServerArgs } from "./server-options.js";

/** After a stop signal the process exits within this, whatever is still running. */
const SHUTDOWN_DEADLINE_MS = 3000;
/** How long running requests get to finish their responses after being aborted. */
const ABORT_GRACE_MS = 500;

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

function exitWith(code: number, ...lines: string[]): never {
  for (const line of lines) say(line);
  process.exit(code);
}

async function main(): Promise<void> {
  const parsed = parseEmbeddedServerArgs(process.argv.slice(2), { threads: availableParallelism() });
  if (parsed.ok === "help") {
    process.stdout.write(`${parsed.message}\n`);
    return;
  }
  if (!parsed.ok) exitWith(2, `error: ${parsed.message}`);
  const options = parsed.options;

  const modelProblem = await checkModelFile(options.modelPath);
  if (modelProblem) exitWith(1, LOG.modelFailed(options.modelPath, modelProblem), LOG.modelExit());

  const metrics = new EmbeddedServerMetrics();
  const running = new Set<AbortController>();
  const loadAbort = new AbortController();
  let engine: EmbeddedEngine | null = null;
  let stopping = false;

  const server = createServer(
    createEmbeddedRequestHandler({
      alias: options.alias,
      startedAt: Math.floor(Date.now() / 1000),
      metrics,
      engine: () => engine,
      stopping: () => stopping,
      track(controller) {
        running.add(controller);
        return () => running.delete(controller);
      },
    }),
  );

  const shutdown = async (signal: string) => {
    if (stopping) exitWith(1, LOG.forcedExit());
    stopping = true;
    say(LOG.shuttingDown(signal));
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    loadAbort.abort(new Error(`received ${signal}`));
    server.close(() => {});
    for (const controller of running) controller.abort(new Error(`received ${signal}`));
    engine?.stopAccepting(new Error("the server is shutting down"));
    await waitUntil(() => running.size === 0, ABORT_GRACE_MS);
    server.closeAllConnections();
    await engine?.dispose().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  const port = await listen(server, options);
  if (stopping) return;
  say(LOG.httpListening(options.host, port));

  const llamaCpp = await importEngine();
  if (stopping) return;
  say(LOG.engine(await llamaCpp.getModuleVersion()));
  say(LOG.loadingModel());
  try {
    engine = await loadEmbeddedEngine(llamaCpp, options, metrics, {
      signal: loadAbort.signal,
      onLlamaLog: (_level, message) => {
        // llama.cpp draws a loading progress bar with "." fragments; llama-server's line carries no facts.
        if (/^[.\s]*$/.test(message)) return;
        for (const line of message.split("\n")) if (line.trim() !== "") say(line.trimEnd());
      },
      onBackend: ({ gpu, systemInfo }) =>
        say(LOG.systemInfo(options.threads, availableParallelism(), gpu === false ? "CPU" : gpu, systemInfo)),
    });
  } catch (error) {
    if (stopping) return;
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof LlamaBackendError) exitWith(1, LOG.engineFailed(reason));
    exitWith(1, LOG.modelFailed(options.modelPath, reason), LOG.modelExit());
  }
  if (stopping) return;
  say(LOG.modelLoaded());
  say(LOG.chatFormat(engine.chatFormat));
  say(LOG.slots(options.parallel, engine.sequenceContextSize));
  say(LOG.ready(options.host, port));
}

/** A reason the file cannot be a model ("no such file", "not a GGUF file …"), or null. */
async function checkModelFile(path: string): Promise<string | null> {
  try {
    const file = await open(path, "r");
    try {
      const { bytesRead, buffer } = await file.read(Buffer.alloc(4), 0, 4, 0);
      const magic = buffer.subarray(0, bytesRead).toString("latin1");
      return magic === "GGUF"
        ? null
        : `not a GGUF file (it starts with ${JSON.stringify(magic)}, expected "GGUF")`;
    } finally {
      await file.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "no such file";
    if (code === "EISDIR") return "it is a directory, not a GGUF file";
    if (code === "EACCES") return "permission denied";
    return (error as Error).message;
  }
}

/** Binds the port (before the model loads, like llama-server); exits 1 with the reason when it cannot. */
function listen(server: Server, options: EmbeddedServerOptions): Promise<number> {
  return new Promise((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const detail = `${error.code ?? "error"}: ${error.message}`;
      const line =
        error.code === "EADDRINUSE"
          ? LOG.bindFailed(options.host, options.port, "address already in use")
          : LOG.httpFailed(options.host, options.port, detail);
      exitWith(1, line, LOG.httpExit());
    });
    server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function importEngine(): Promise<NodeLlamaCppModule> {
  try {
    return await import(EMBEDDED_ENGINE_PACKAGE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String(error).includes(EMBEDDED_ENGINE_PACKAGE)) {
      exitWith(1, LOG.engineMissing(EMBEDDED_ENGINE_PACKAGE, EMBEDDED_ENGINE_VERSION));
    }
    exitWith(1, LOG.engineFailed(error instanceof Error ? error.message : String(error)));
  }
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

process.on("unhandledRejection", (reason) => {
  say(`main: unexpected error: ${reason instanceof Error ? reason.message : String(reason)}`);
});

main().catch((error: unknown) => {
  exitWith(1, `main: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
});
