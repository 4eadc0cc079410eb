/**
 * Runs a benchmark load against an OpenAI-compatible server: `requests` streamed completions, at most
 * `concurrency` at once (closed loop), each with a synthetic prompt of about `promptTokens` tokens and
 * exactly `outputTokens` to generate where the engine honours `min_tokens` / `ignore_eos` (vLLM,
 * SGLang; others ignore the fields). Each request is timed on the client: TTFT at the first generated
 * token, e2e at the end of the stream; token counts come from the usage chunk
 * (stream_options.include_usage), else from the content chunks counted.
 *
 * A failed request is a sample with its error; the run fails only when every request failed (or the
 * warm-up request did). Aborting the signal stops the run: requests in flight are dropped and the
 * result says `cancelled`.
 */
import { performance } from "node:perf_hooks";
import { syntheticPrompt } from "../../core/bench/prompt.js";
import type { BenchSettings } from "../../core/bench/settings.js";
import { type BenchSample, tpotOf } from "../../core/bench/summary.js";
import { ServepilotError } from "../../core/errors.js";

export type BenchApi = "chat" | "completions";

export interface LoadOptions extends BenchSettings {
  /** The server: `http://host:port` or `http://host:port/v1` (both work). */
  baseUrl: string;
  /** The `model` field of each request (the served model name). */
  model: string;
  /** /v1/chat/completions (default) or /v1/completions. */
  api?: BenchApi;
  /** Extra headers (Authorization for an API key). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Called after every measured request ends. */
  onProgress?: (progress: LoadProgress) => void;
  /** Sends one request first that is not measured (default true); when it fails, the run fails. */
  warmup?: boolean;
  /** Limit for one request, ms (default 300 000). */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

export interface LoadProgress {
  completed: number;
  failed: number;
  total: number;
  /** The sample of the request that just ended. */
  sample: BenchSample;
}

export interface LoadResult {
  samples: BenchSample[];
  /** From the first measured request sent to the last one ended. */
  wallSeconds: number;
  startedAt: string;
  finishedAt: string;
  cancelled: boolean;
  /** The URL requested (…/v1/chat/completions or …/v1/completions). */
  url: string;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

/** `http://h:p`, `http://h:p/`, `http://h:p/v1/` → `http://h:p/v1`. */
export function v1Base(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ServepilotError("INVALID_ARGUMENT", `endpoint ${JSON.stringify(baseUrl)} is not a URL`, {
      hint: "give it as http://host:port or http://host:port/v1",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ServepilotError("INVALID_ARGUMENT", `endpoint ${baseUrl} must be an http(s) URL`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/v1") ? path : `${path}/v1`;
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

/** A network error's cause (`connect ECONNREFUSED 127.0.0.1:1`) rather than undici's "fetch failed". */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "timed out";
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  if (cause && typeof cause === "object" && "code" in cause) return String((cause as { code: unknown }).code);
  return error.message;
}

function requestBody(options: LoadOptions, index: number): Record<string, unknown> {
  const prompt = syntheticPrompt(options.promptTokens, index);
  const common = {
    model: options.model,
    max_tokens: options.outputTokens,
    // vLLM / SGLang extensions: generate exactly outputTokens tokens; other servers ignore them
    min_tokens: options.outputTokens,
    ignore_eos: true,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  };
  return options.api === "completions"
    ? { ...common, prompt }
    : { ...common, messages: [{ role: "user", content: prompt }] };
}

interface ChunkChoice {
  delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown };
  text?: unknown;
}

interface StreamChunk {
  choices?: ChunkChoice[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: { message?: unknown } | string;
}

function generatedText(chunk: StreamChunk): boolean {
  for (const choice of chunk.choices ?? []) {
    const parts = [
      choice.delta?.content,
      choice.delta?.reasoning_content,
      choice.delta?.reasoning,
      choice.text,
    ];
    if (parts.some((p) => typeof p === "string" && p.length > 0)) return true;
  }
  return false;
}

function errorMessageOf(body: string): string {
  try {
    const json = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
      detail?: unknown;
    };
    if (typeof json.error === "string") return json.error;
    if (json.error && typeof json.error.message === "string") return json.error.message;
    if (typeof json.message === "string") return json.message;
    if (typeof json.detail === "string") return json.detail;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 300) || "(empty body)";
}

/** One streamed request, timed. Throws only when `signal` (the run's) was aborted. */
async function measure(
  options: LoadOptions,
  url: string,
  index: number,
  signal: AbortSignal | undefined,
): Promise<BenchSample> {
  const doFetch = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const requestSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const started = performance.now();
  let ttftMs: number | null = null;
  let chunks = 0;
  let promptTokens: number | null = null;
  let completionTokens: number | null = null;
  const fail = (error: string): BenchSample => ({
    ok: false,
    error,
    ttftMs: null,
    tpotMs: null,
    e2eMs: performance.now() - started,
    promptTokens: null,
    outputTokens: 0,
  });
  try {
    const response = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...options.headers },
      body: JSON.stringify(requestBody(options, index)),
      signal: requestSignal,
    });
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      return fail(`HTTP ${response.status}: ${errorMessageOf(text)}`);
    }
    if (response.body === null) return fail("the response has no body");
    const decoder = new TextDecoder();
    let buffer = "";
    let streamError: string | null = null;
    let done = false;
    const onLine = (raw: string) => {
      const line = raw.trim();
      if (!line.startsWith("data:")) return;
      const data = line.slice(5).trim();
      if (data === "[DONE]") {
        done = true;
        return;
      }
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(data) as StreamChunk;
      } catch {
        return;
      }
      if (chunk.error !== undefined) {
        streamError =
          typeof chunk.error === "string"
            ? chunk.error
            : String(chunk.error.message ?? "error in the stream");
        return;
      }
      if (generatedText(chunk)) {
        chunks++;
        if (ttftMs === null) ttftMs = performance.now() - started;
      }
      const usage = chunk.usage;
      if (usage && typeof usage.completion_tokens === "number") completionTokens = usage.completion_tokens;
      if (usage && typeof usage.prompt_tokens === "number") promptTokens = usage.prompt_tokens;
    };
    for await (const part of response.body) {
      buffer += decoder.decode(part as Uint8Array, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        onLine(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
    }
    buffer += decoder.decode();
    if (buffer !== "") onLine(buffer);
    const e2eMs = performance.now() - started;
    if (streamError !== null) return fail(`the server reported: ${streamError}`);
    const outputTokens = completionTokens ?? chunks;
    if (outputTokens === 0 && ttftMs === null) {
      return fail(done ? "the stream ended without any generated token" : "the stream ended early");
    }
    return {
      ok: true,
      error: null,
      ttftMs,
      tpotMs: tpotOf(e2eMs, ttftMs, outputTokens),
      e2eMs,
      promptTokens,
      outputTokens,
    };
  } catch (error) {
    if (signal?.aborted) throw error;
    if (timeout.aborted)
      return fail(`timed out after ${(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) / 1000} s`);
    return fail(describeFetchError(error));
  }
}

/** Runs the load; see the module comment. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = `${v1Base(options.baseUrl)}/${options.api === "completions" ? "completions" : "chat/completions"}`;
  const { signal } = options;
  const cancelledResult = (samples: BenchSample[], startedAt: Date, wallSeconds: number): LoadResult => ({
    samples,
    wallSeconds,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    cancelled: true,
    url,
  });
  if (signal?.aborted) return cancelledResult([], new Date(), 0);

  if (options.warmup !== false) {
    let warm: BenchSample;
    try {
      warm = await measure(options, url, -1, signal);
    } catch (error) {
      if (signal?.aborted) return cancelledResult([], new Date(), 0);
      throw error;
    }
    if (!warm.ok) {
      throw new ServepilotError("NETWORK_ERROR", `benchmark of ${url} failed: ${warm.error}`, {
        hint: "check that the server runs and serves the model (the warm-up request failed)",
        details: { url, model: options.model },
      });
    }
  }

  const startedAt = new Date();
  const t0 = performance.now();
  const samples: BenchSample[] = [];
  let next = 0;
  let failed = 0;
  let aborted = false;
  const worker = async () => {
    while (!aborted && next < options.requests) {
      const index = next++;
      let sample: BenchSample;
      try {
        sample = await measure(options, url, index, signal);
      } catch (error) {
        if (signal?.aborted) {
          aborted = true;
          return;
        }
        throw error;
      }
      if (signal?.aborted) {
        aborted = true;
        return;
      }
      samples.push(sample);
      if (!sample.ok) failed++;
      options.onProgress?.({ completed: samples.length, failed, total: options.requests, sample });
    }
  };
  const workers = Math.min(options.concurrency, options.requests);
  await Promise.all(Array.from({ length: workers }, worker));
  const wallSeconds = (performance.now() - t0) / 1000;
  if (aborted || signal?.aborted) return cancelledResult(samples, startedAt, wallSeconds);
  if (samples.length > 0 && failed === samples.length) {
    const first = samples[0]?.error ?? "unknown error";
    throw new ServepilotError(
      "NETWORK_ERROR",
      `benchmark of ${url} failed: all ${samples.length} requests failed (${first})`,
      { details: { url, model: options.model } },
    );
  }
  return {
    samples,
    wallSeconds,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    cancelled: false,
    url,
  };
}
