/**
 * What `servepilot studio` (or a library caller) starts the studio with, and the checks that refuse an
 * unsafe start: any address other than loopback needs an API key.
 */
import type { Writable } from "node:stream";
import { ServepilotError } from "../core/errors.js";

export const DEFAULT_STUDIO_HOST = "127.0.0.1";
export const DEFAULT_STUDIO_PORT = 8080;

export interface StudioOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port (tests, benchmarks). */
  port?: number;
  /** Required when host is not a loopback address. */
  apiKey?: string | null;
  /** Let API recipes name their own executables, Python paths and loader env (LD_PRELOAD …). */
  allowCustomCommands?: boolean;
  /** Browser origins allowed by CORS (none: CORS off). */
  corsOrigins?: string[];
  /** Stop the engines at shutdown instead of leaving them for the next start to adopt. */
  stopEngines?: boolean;
  /** Relaunch at start what was running when the studio stopped. */
  restore?: boolean;
  /** Requests per minute per client address (0: no limit). */
  rateLimitPerMinute?: number;
  /** Largest request body accepted (bytes). */
  bodyLimitBytes?: number;
  env?: NodeJS.ProcessEnv;
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  /** Where the JSON log goes (default stdout). */
  logStream?: Writable;
  /** GPU sampling interval (ms). */
  gpuSampleMs?: number;
  /** Engine /metrics scrape interval (ms). */
  scrapeMs?: number;
  /** Instance liveness check interval for the watchdog (ms). */
  watchdogMs?: number;
  /** SSE heartbeat interval (ms). */
  heartbeatMs?: number;
  /** Gateway: move `<think>…</think>` from content to reasoning_content unless a request says otherwise. */
  normalizeReasoning?: boolean;
  /** Gateway: how long to wait for an engine's response headers (ms; default 600000; 0: no limit). */
  gatewayTimeoutMs?: number;
  /** Gateway: interval of the idle-TTL check (ms). */
  idleCheckMs?: number;
  /** First port an engine launch tries (config file `port` / SERVEPILOT_PORT; default 8000). */
  enginePortStart?: number | null;
  /** Directory of file recipes (default `<dataDir>/recipes`), and engine programs from the config file. */
  recipesDir?: string | null;
  enginePrograms?: Partial<Record<"vllm" | "sglang" | "llamacpp", string>>;
}

export type ResolvedStudioOptions = Required<
  Omit<StudioOptions, "apiKey" | "logStream" | "recipesDir" | "enginePrograms" | "enginePortStart">
> & {
  enginePortStart: number | null;
  apiKey: string | null;
  logStream: Writable | null;
  recipesDir: string | null;
  enginePrograms: Partial<Record<"vllm" | "sglang" | "llamacpp", string>>;
};

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::ffff:127.0.0.1";
}

function portFromEnv(value: string | undefined): number | null {
  const port = Number(value);
  return value !== undefined && Number.isInteger(port) && port >= 1 && port <= 65_535 ? port : null;
}

/** Shortest API key accepted: 16 characters (guessing it over HTTP must be hopeless). */
export const MIN_API_KEY_LENGTH = 16;

export function resolveStudioOptions(options: StudioOptions): ResolvedStudioOptions {
  const env = options.env ?? process.env;
  const host = options.host ?? DEFAULT_STUDIO_HOST;
  const port = options.port ?? DEFAULT_STUDIO_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ServepilotError("INVALID_ARGUMENT", `--port must be an integer from 0 to 65535, got ${port}`);
  }
  const apiKey = options.apiKey ?? env.SERVEPILOT_API_KEY ?? null;
  if (apiKey !== null && apiKey.length < MIN_API_KEY_LENGTH) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--api-key must be at least ${MIN_API_KEY_LENGTH} characters, got ${apiKey.length}`,
      { hint: "generate one with: openssl rand -hex 24" },
    );
  }
  if (!isLoopbackHost(host) && apiKey === null) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--host ${host}: binding an address other than loopback requires an API key`,
      { hint: "pass --api-key KEY (or set SERVEPILOT_API_KEY), or keep the default --host 127.0.0.1" },
    );
  }
  return {
    dataDir: options.dataDir,
    host,
    port,
    apiKey,
    allowCustomCommands: options.allowCustomCommands ?? false,
    corsOrigins: options.corsOrigins ?? [],
    stopEngines: options.stopEngines ?? false,
    restore: options.restore ?? false,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1200,
    bodyLimitBytes: options.bodyLimitBytes ?? 2 * 1024 * 1024,
    env,
    logLevel: options.logLevel ?? "info",
    logStream: options.logStream ?? null,
    gpuSampleMs: options.gpuSampleMs ?? 1000,
    scrapeMs: options.scrapeMs ?? 2000,
    watchdogMs: options.watchdogMs ?? 2000,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    normalizeReasoning: options.normalizeReasoning ?? false,
    gatewayTimeoutMs: options.gatewayTimeoutMs ?? 600_000,
    idleCheckMs: options.idleCheckMs ?? 1000,
    enginePortStart: options.enginePortStart ?? portFromEnv(env.SERVEPILOT_PORT),
    recipesDir: options.recipesDir ?? null,
    enginePrograms: options.enginePrograms ?? {},
  };
}
