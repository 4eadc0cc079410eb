/**
 * The embedded server's command line: `--model FILE [--host H] [--port N] [--alias NAME]
 * [--ctx-size N] [--parallel N] [--threads N] [--gpu auto|off]`, the spellings of llama-server's long
 * flags. Invalid input is refused with one line naming the flag, never adjusted.
 */
import { basename } from "node:path";
import { parseArgs } from "node:util";
import type { EmbeddedGpuMode } from "./index.js";

export interface EmbeddedServerOptions {
  readonly modelPath: string;
  readonly host: string;
  /** 0 lets the OS pick a free port (the log then names the port it got). */
  readonly port: number;
  readonly alias: string;
  /** Total context tokens over all sequences; null: the model's training context (llama-server's 0). */
  readonly ctxSize: number | null;
  readonly parallel: number;
  readonly threads: number;
  readonly gpu: EmbeddedGpuMode;
}

export type ParsedServerOptions =
  | { ok: true; options: EmbeddedServerOptions }
  | { ok: false; message: string }
  | { ok: "help"; message: string };

export const EMBEDDED_SERVER_USAGE =
  "usage: server.js --model FILE.gguf [--host 127.0.0.1] [--port 8080] [--alias NAME] [--ctx-size N] " +
  "[--parallel N] [--threads N] [--gpu auto|off]";

const OPTIONS = {
  model: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  alias: { type: "string" },
  "ctx-size": { type: "string" },
  parallel: { type: "string" },
  threads: { type: "string" },
  gpu: { type: "string" },
  help: { type: "boolean" },
} as const;

class OptionError extends Error {}

/** Reads argv (without node and the script); `defaultThreads` is os.availableParallelism() in the server. */
export function parseEmbeddedServerArgs(
  argv: readonly string[],
  defaults: { threads: number },
): ParsedServerOptions {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  if (values.help) return { ok: "help", message: EMBEDDED_SERVER_USAGE };
  try {
    const modelPath = values.model;
    if (modelPath === undefined || modelPath === "") throw new OptionError("--model FILE.gguf is required");
    const host = values.host ?? "127.0.0.1";
    if (host.trim() === "") throw new OptionError("--host must not be empty");
    const alias = values.alias ?? basename(modelPath);
    if (alias.trim() === "") throw new OptionError("--alias must not be empty");
    const ctxSize = readInteger("--ctx-size", values["ctx-size"], 0, 2 ** 24);
    const gpu = values.gpu ?? "auto";
    if (gpu !== "auto" && gpu !== "off")
      throw new OptionError(`--gpu must be "auto" or "off", got ${quote(gpu)}`);
    return {
      ok: true,
      options: {
        modelPath,
        host,
        port: readInteger("--port", values.port, 0, 65535) ?? 8080,
        alias,
        ctxSize: ctxSize === null || ctxSize === 0 ? null : ctxSize,
        parallel: readInteger("--parallel", values.parallel, 1, 256) ?? 1,
        threads: readInteger("--threads", values.threads, 1, 1024) ?? defaults.threads,
        gpu,
      },
    };
  } catch (error) {
    if (error instanceof OptionError) return { ok: false, message: error.message };
    throw error;
  }
}

function readInteger(flag: string, text: string | undefined, min: number, max: number): number | null {
  if (text === undefined) return null;
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptionError(`${flag} must be an integer from ${min} to ${max}, got ${quote(text)}`);
  }
  return value;
}

function quote(text: string): string {
  return JSON.stringify(text);
}
