/**
 * The embedded engine (llama.cpp through node-llama-cpp) as a real process serving a tiny GGUF
 * written at test time: startup log read by the llama.cpp parser, /health while loading and when
 * ready, the OpenAI routes (plain and streamed), stop strings, concurrency and client disconnects,
 * /metrics, request errors, port in use, bad model files, SIGTERM. Random weights make gibberish,
 * so the checks are on structure and counts, never on the words.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shareBatch } from "../../../src/runtime/engines/embedded/batch-share.js";
import {
  EMBEDDED_ENGINE_PACKAGE,
  EMBEDDED_ENGINE_VERSION,
  EMBEDDED_HEALTH_PATH,
  EMBEDDED_METRIC_PREFIX,
  embeddedServerArgv,
  isEmbeddedEngineInstalled,
} from "../../../src/runtime/engines/embedded/index.js";
import { parseChatCompletionRequest } from "../../../src/runtime/engines/embedded/openai-request.js";
import { parseEmbeddedServerArgs } from "../../../src/runtime/engines/embedded/server-options.js";
import { scanForStop } from "../../../src/runtime/engines/embedded/stop-strings.js";
import { primaryFailure } from "../../../src/runtime/engines/startup-state.js";
import { createStartupTracker, type StartupTracker } from "../../../src/runtime/engines/startup-tracker.js";
import { writeTinyGguf } from "../../helpers/tiny-gguf.js";
import { findFreePort, pollUntil, statusOf } from "./emulator-process.js";

const ENGINE_INSTALLED = await isEmbeddedEngineInstalled();
const SKIP_REASON = "node-llama-cpp is not installed (npm install node-llama-cpp@3.22.1)";
if (!ENGINE_INSTALLED) console.warn(`embedded-server.test.ts: skipping the server tests: ${SKIP_REASON}`);

/** Context tokens per sequence: big enough that a disconnect always comes before max_tokens. */
const CONTEXT_PER_SEQUENCE = 4096;
const PARALLEL = 2;
const ALIAS = "tiny-llama";

interface RunningServer {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  tracker: StartupTracker;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(modelPath: string, port: number, extra: string[] = []): RunningServer {
  const [node, ...args] = embeddedServerArgv({
    modelPath,
    host: "127.0.0.1",
    port,
    alias: ALIAS,
    ctxSize: CONTEXT_PER_SEQUENCE * PARALLEL,
    parallel: PARALLEL,
    // One thread: ggml's spinning worker threads crawl when the test machine's cores are all busy.
    threads: 1,
    gpu: "off",
  });
  const child = spawn(node as string, [...args, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const tracker = createStartupTracker("llamacpp");
  let text = "";
  const collect = (chunk: Buffer) => {
    const part = chunk.toString("utf8");
    text += part;
    tracker.pushChunk(part);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => {
      tracker.flush();
      resolve({ code, signal });
    });
  });
  return { child, port, baseUrl: `http://127.0.0.1:${port}`, tracker, output: () => text, exited };
}

async function stopServer(server: RunningServer | undefined): Promise<void> {
  if (server === undefined || server.child.pid === undefined) return;
  try {
    process.kill(-server.child.pid, "SIGKILL");
  } catch {
    // already gone
  }
  await server.exited;
}

async function waitForExit(server: RunningServer, timeoutMs = 30_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no exit within ${timeoutMs} ms:\n${server.output()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });
}

/** The `data:` payloads of an SSE body, in order. */
async function readSse(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      expect(block.startsWith("data: ")).toBe(true);
      return block.slice("data: ".length);
    });
}

async function readMetrics(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [name, value] = line.split(" ");
    values.set((name ?? "").replace(EMBEDDED_METRIC_PREFIX, ""), Number(value));
  }
  return values;
}

const metric = (values: Map<string, number>, name: string): number => values.get(name) ?? Number.NaN;

describe.skipIf(!ENGINE_INSTALLED)("embedded llama.cpp server", () => {
  let dir: string;
  let modelPath: string;
  let server: RunningServer;
  const statusesBeforeReady: Array<number | "refused"> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "servepilot-embedded-"));
    modelPath = await writeTinyGguf(dir, { contextLength: CONTEXT_PER_SEQUENCE });
    server = startServer(modelPath, await findFreePort());
    await pollUntil(
      async () => {
        if (server.child.exitCode !== null) throw new Error(`server exited:\n${server.output()}`);
        const status = await statusOf(`${server.baseUrl}${EMBEDDED_HEALTH_PATH}`);
        if (status === 200) return true;
        statusesBeforeReady.push(status);
        return undefined;
      },
      "GET /health to answer 200",
      90_000,
    );
  }, 120_000);

  afterAll(async () => {
    await stopServer(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 (or nothing) until the model is loaded, then 200", async () => {
    expect(statusesBeforeReady.every((status) => status === 503 || status === "refused")).toBe(true);
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
  });

  it("logs a startup the llama.cpp parser follows to ready, with buffer sizes and n_ctx", async () => {
    await pollUntil(
      async () => (server.tracker.state.status === "ready" ? true : undefined),
      "ready line",
      10_000,
    );
    const state = server.tracker.state;
    expect(state.phase).toBe("ready");
    expect(state.url).toBe(server.baseUrl);
    expect(state.failures).toEqual([]);
    expect(state.actual.kvCacheTokens).toBe(CONTEXT_PER_SEQUENCE * PARALLEL);
    expect(Object.keys(state.deviceBuffersMiB)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^CPU\S* model$/), "CPU kv"]),
    );
    expect(server.output()).toContain("main: chat format: ChatML (from the model's chat template)");
  });

  it("lists the alias on /v1/models", async () => {
    const body = (await (await fetch(`${server.baseUrl}/v1/models`)).json()) as {
      object: string;
      data: Array<{ id: string; object: string; owned_by: string }>;
    };
    expect(body.object).toBe("list");
    expect(body.data).toEqual([
      expect.objectContaining({ id: ALIAS, object: "model", owned_by: "servepilot" }),
    ]);
  });

  it("streams a chat completion: role, content chunks, finish, usage, [DONE]", async () => {
    const response = await postJson(`${server.baseUrl}/v1/chat/completions`, {
      model: "any-name-is-accepted",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Say something." },
      ],
      max_tokens: 12,
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", model: ALIAS });
      expect(chunk.id).toBe(chunks[0].id);
    }
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: null });
    const content = chunks.filter((chunk) => typeof chunk.choices[0]?.delta?.content === "string");
    const finish = chunks.filter((chunk) => chunk.choices[0]?.finish_reason);
    const usage = chunks.at(-1);
    expect(content.length).toBeGreaterThanOrEqual(1);
    expect(finish).toHaveLength(1);
    expect(finish[0].choices[0].finish_reason).toBe("length");
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(12);
    expect(usage.usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.usage.total_tokens).toBe(usage.usage.prompt_tokens + usage.usage.completion_tokens);
    // Each content chunk carries the text of at least one token.
    expect(content.length).toBeLessThanOrEqual(usage.usage.completion_tokens);
  });

  it("returns a plain /v1/completions response within max_tokens, and counts it in /metrics", async () => {
    const before = await readMetrics(server.baseUrl);
    const response = await postJson(`${server.baseUrl}/v1/completions`, {
      prompt: "Once upon a time",
      max_tokens: 10,
      temperature: 0,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      model: string;
      choices: Array<{ text: string; finish_reason: string }>;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
      timings: { prompt_n: number; predicted_n: number };
    };
    expect(body.object).toBe("text_completion");
    expect(body.model).toBe(ALIAS);
    expect(typeof body.choices[0]?.text).toBe("string");
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(10);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.timings.prompt_n).toBeLessThanOrEqual(body.usage.prompt_tokens);

    const after = await readMetrics(server.baseUrl);
    expect(metric(after, "tokens_predicted_total") - metric(before, "tokens_predicted_total")).toBe(
      body.usage.completion_tokens,
    );
    expect(metric(after, "prompt_tokens_total") - metric(before, "prompt_tokens_total")).toBe(
      body.timings.prompt_n,
    );
    expect(metric(after, "n_decode_total")).toBeGreaterThan(metric(before, "n_decode_total"));
    expect(metric(after, "requests_processing")).toBe(0);
    expect(metric(after, "n_tokens_max")).toBeGreaterThanOrEqual(body.usage.total_tokens);
  });

  it("prints llama-server's metric names, HELP and TYPE lines", async () => {
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const typed = [...text.matchAll(/^# TYPE llamacpp:(\S+) (\w+)$/gm)].map(
      (match) => `${match[1]} ${match[2]}`,
    );
    expect(typed).toEqual([
      "prompt_tokens_total counter",
      "prompt_seconds_total counter",
      "tokens_predicted_total counter",
      "tokens_predicted_seconds_total counter",
      "n_decode_total counter",
      "n_tokens_max counter",
      "n_busy_slots_per_decode counter",
      "prompt_tokens_seconds gauge",
      "predicted_tokens_seconds gauge",
      "requests_processing gauge",
      "requests_deferred gauge",
    ]);
    expect(text).toContain("# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n");
  });

  it("ends at a stop string and leaves it out", async () => {
    // Every printable ASCII character stops it: sampled random tokens reach one long before 64.
    const stops = Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index));
    const response = await postJson(`${server.baseUrl}/v1/completions`, {
      prompt: "Hello",
      max_tokens: 64,
      temperature: 1,
      seed: 11,
      stop: stops,
    });
    const body = (await response.json()) as {
      choices: Array<{ text: string; finish_reason: string }>;
      usage: { completion_tokens: number };
    };
    expect(body.choices[0]?.finish_reason).toBe("stop");
    expect(body.usage.completion_tokens).toBeLessThan(64);
    expect(stops.some((stop) => body.choices[0]?.text.includes(stop))).toBe(false);
  });

  it("serves more requests than sequences by queueing them", async () => {
    const requests = Array.from({ length: PARALLEL * 2 + 1 }, (_, index) =>
      postJson(`${server.baseUrl}/v1/chat/completions`, {
        messages: [{ role: "user", content: `request ${index}` }],
        max_tokens: 8,
        stream: index % 2 === 0,
      }),
    );
    const responses = await Promise.all(requests);
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    const bodies = await Promise.all(responses.map((response) => response.text()));
    for (const body of bodies) expect(body.includes('"finish_reason":"length"')).toBe(true);
    const after = await readMetrics(server.baseUrl);
    expect(metric(after, "requests_processing")).toBe(0);
    expect(metric(after, "requests_deferred")).toBe(0);
  });

  it("aborts the generation of a client that disconnects mid-stream", async () => {
    const before = await readMetrics(server.baseUrl);
    const maxTokens = CONTEXT_PER_SEQUENCE - 100;
    const controller = new AbortController();
    const response = await postJson(
      `${server.baseUrl}/v1/completions`,
      { prompt: "Tell me everything.", max_tokens: maxTokens, stream: true },
      { signal: controller.signal },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = "";
    while ((received.match(/"text"/g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      received += new TextDecoder().decode(value);
    }
    controller.abort();
    await reader.cancel().catch(() => {});
    const settled = await pollUntil(
      async () => {
        const values = await readMetrics(server.baseUrl);
        const predicted = metric(values, "tokens_predicted_total") - metric(before, "tokens_predicted_total");
        return metric(values, "requests_processing") === 0 && predicted > 0 ? predicted : undefined;
      },
      "the aborted request to release its sequence",
      60_000,
    );
    expect(settled).toBeLessThan(maxTokens / 2);
    const next = await postJson(`${server.baseUrl}/v1/completions`, { prompt: "again", max_tokens: 3 });
    expect(next.status).toBe(200);
  });

  it("refuses malformed requests with an OpenAI error naming the field", async () => {
    const badField = await postJson(`${server.baseUrl}/v1/chat/completions`, {
      messages: [{ role: "user", content: 42 }],
    });
    expect(badField.status).toBe(400);
    const body = (await badField.json()) as { error: { message: string; type: string; code: number } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("messages[0].content");

    const missing = await postJson(`${server.baseUrl}/v1/completions`, { max_tokens: 3 });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe(
      "prompt is required",
    );

    const notJson = await fetch(`${server.baseUrl}/v1/chat/completions`, { method: "POST", body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toContain(
      "not valid JSON",
    );

    const tooLarge = await fetch(`${server.baseUrl}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "x".repeat(1024 * 1024 + 10) }),
    });
    expect(tooLarge.status).toBe(413);

    const tooLong = await postJson(`${server.baseUrl}/v1/completions`, {
      prompt: Array.from({ length: CONTEXT_PER_SEQUENCE + 1 }, () => 65),
    });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: { type: string } }).error.type).toBe(
      "exceed_context_size_error",
    );

    const unknownToken = await postJson(`${server.baseUrl}/v1/completions`, { prompt: [999_999] });
    expect(unknownToken.status).toBe(400);
    expect(((await unknownToken.json()) as { error: { message: string } }).error.message).toContain("999999");
    expect((await postJson(`${server.baseUrl}/v1/completions`, { prompt: "" })).status).toBe(400);

    expect((await fetch(`${server.baseUrl}/v1/unknown`)).status).toBe(404);
    const wrongMethod = await fetch(`${server.baseUrl}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
  });

  it("exits 1 with a line the parser reads as address-in-use when the port is taken", async () => {
    const second = startServer(modelPath, server.port);
    try {
      expect(await waitForExit(second)).toEqual({ code: 1, signal: null });
      const failure = primaryFailure(second.tracker.state);
      expect(failure?.cause).toBe("address-in-use");
      expect(failure?.port).toBe(server.port);
    } finally {
      await stopServer(second);
    }
  });

  it("exits 1 with a model-load failure for a missing file or a file that is not GGUF", async () => {
    const notGguf = join(dir, "not-a-model.gguf");
    writeFileSync(notGguf, "this is text, not a model");
    for (const path of [join(dir, "missing.gguf"), notGguf]) {
      const failed = startServer(path, await findFreePort());
      try {
        expect(await waitForExit(failed)).toEqual({ code: 1, signal: null });
        expect(primaryFailure(failed.tracker.state)?.cause).toBe("model-load-failed");
      } finally {
        await stopServer(failed);
      }
    }
  });

  it("exits 2 with one line on a bad flag", async () => {
    const bad = startServer(modelPath, await findFreePort(), ["--parallel", "zero"]);
    try {
      expect(await waitForExit(bad)).toEqual({ code: 2, signal: null });
      expect(bad.output().trim().split("\n")).toHaveLength(1);
      expect(bad.output()).toContain("--parallel");
    } finally {
      await stopServer(bad);
    }
  });

  it("stops on SIGTERM with exit code 0 and leaves no process behind", async () => {
    const stopping = startServer(modelPath, await findFreePort());
    try {
      await pollUntil(
        async () => ((await statusOf(`${stopping.baseUrl}/health`)) === 200 ? true : undefined),
        "the second server to be ready",
        90_000,
      );
      const pid = stopping.child.pid as number;
      stopping.child.kill("SIGTERM");
      expect(await waitForExit(stopping)).toEqual({ code: 0, signal: null });
      let probe: unknown = null;
      try {
        process.kill(pid, 0);
      } catch (error) {
        probe = error;
      }
      expect((probe as NodeJS.ErrnoException | null)?.code).toBe("ESRCH");
    } finally {
      await stopServer(stopping);
    }
  }, 120_000);
});

describe("embedded server command line and request checks", () => {
  it("names the node-llama-cpp version package.json pins", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      optionalDependencies: Record<string, string>;
    };
    expect(manifest.optionalDependencies[EMBEDDED_ENGINE_PACKAGE]).toBe(EMBEDDED_ENGINE_VERSION);
  });

  const optionsArbitrary = fc.record({
    modelPath: fc.stringMatching(/^\/[a-z0-9/_.-]{1,30}\.gguf$/),
    host: fc.constantFrom("127.0.0.1", "0.0.0.0", "::1", "localhost"),
    port: fc.integer({ min: 0, max: 65535 }),
    alias: fc.stringMatching(/^[A-Za-z0-9][\w./:-]{0,30}$/),
    ctxSize: fc.option(fc.integer({ min: 1, max: 1 << 20 }), { nil: undefined }),
    parallel: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
    threads: fc.option(fc.integer({ min: 1, max: 512 }), { nil: undefined }),
    gpu: fc.option(fc.constantFrom("auto" as const, "off" as const), { nil: undefined }),
  });

  it("parses back every argv that embeddedServerArgv builds", () => {
    fc.assert(
      fc.property(optionsArbitrary, (options) => {
        const argv = embeddedServerArgv(options).slice(2);
        const parsed = parseEmbeddedServerArgs(argv, { threads: 3 });
        expect(parsed).toEqual({
          ok: true,
          options: {
            modelPath: options.modelPath,
            host: options.host,
            port: options.port,
            alias: options.alias,
            ctxSize: options.ctxSize ?? null,
            parallel: options.parallel ?? 1,
            threads: options.threads ?? 3,
            gpu: options.gpu ?? "auto",
          },
        });
      }),
    );
  });

  it("refuses a number flag that is not a whole number in range, naming the flag", () => {
    const notAWholeNumber = fc.oneof(
      fc.string().filter((text) => !/^\s*\d+\s*$/.test(text)),
      fc.constantFrom("-1", "1.5", "1e3", "0x10", "99999999999"),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("--port", "--ctx-size", "--parallel", "--threads"),
        notAWholeNumber,
        (flag, value) => {
          const parsed = parseEmbeddedServerArgs(["--model", "/m.gguf", `${flag}=${value}`], { threads: 1 });
          expect(parsed.ok).toBe(false);
          if (parsed.ok === false) expect(parsed.message).toContain(flag);
        },
      ),
    );
  });

  it("streams exactly the text before the first stop string, however the text arrives", () => {
    const alphabet = fc.constantFrom("a", "b", "c", " ", "é");
    const text = fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join(""));
    const stop = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(
        text,
        fc.array(stop, { maxLength: 3 }),
        fc.array(fc.nat(6), { maxLength: 40 }),
        (full, stops, cuts) => {
          let sent = "";
          let shown = "";
          let stopped = false;
          let end = 0;
          for (const cut of [...cuts, full.length]) {
            end = Math.min(full.length, end + cut);
            shown = full.slice(0, end);
            const scan = scanForStop(shown, stops, sent.length);
            expect(scan.sendable.startsWith(sent)).toBe(true);
            sent = scan.sendable;
            if (scan.stopped) {
              stopped = true;
              break;
            }
          }
          if (!stopped) sent = shown;
          const firstStop = Math.min(
            ...stops.map((s) => full.indexOf(s)).filter((index) => index >= 0),
            full.length,
          );
          expect(sent).toBe(full.slice(0, firstStop));
          expect(stopped).toBe(firstStop < full.length);
        },
      ),
    );
  });

  it("shares a decode batch without exceeding its size or an item's tokens", () => {
    const item = fc.record({
      tokens: fc.array(fc.constant(0), { maxLength: 50 }),
      evaluationPriority: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), fc.integer({ min: 1, max: 64 }), (items, size) => {
        const shared = shareBatch(items, size);
        const total = shared.reduce((sum, entry) => sum + entry.processAmount, 0);
        const wanted = items.reduce((sum, entry) => sum + entry.tokens.length, 0);
        expect(total).toBe(Math.min(size, wanted));
        for (const entry of shared) {
          expect(entry.processAmount).toBeGreaterThan(0);
          expect(entry.processAmount).toBeLessThanOrEqual(entry.item.tokens.length);
        }
        if (size >= items.length) {
          expect(shared).toHaveLength(items.filter((entry) => entry.tokens.length > 0).length);
        }
      }),
    );
  });

  it("never throws on any request body, and names a field or the body when it refuses", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        const parsed = parseChatCompletionRequest(body);
        if (!parsed.ok) expect(parsed.message).toMatch(/^(the request body|messages|[a-z_]+)(\[\d+\])?\S* /);
      }),
    );
  });
});
