/**
 * The vLLM emulator as a real process on a free loopback port: startup log, health before and after
 * ready, the OpenAI routes (plain and streamed), Prometheus metrics, failure scenarios, SIGTERM.
 */
import { statSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { primaryFailure } from "../../../src/runtime/engines/startup-state.js";
import { readVllmStartup } from "../../../src/runtime/engines/vllm-log.js";
import {
  EMULATOR,
  findFreePort,
  pollUntil,
  type RunningEmulator,
  startEmulator,
  statusOf,
  stopEmulator,
  waitForExit,
  waitForReady,
} from "./emulator-process.js";

const lines = (text: string): string[] => text.split("\n");

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Reads an SSE body into its `data:` payloads, in order. */
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

it("is an executable Node script", () => {
  expect(statSync(EMULATOR).mode & 0o111).not.toBe(0);
});

describe("scenario ok", () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator("ok", {
      args: [
        "--served-model-name",
        "qwen-small",
        "--max-model-len",
        "8192",
        "--enforce-eager",
        "--dtype",
        "auto",
      ],
      env: { EMULATOR_KV_TOKENS: "65536", EMULATOR_KV_GIB: "9", EMULATOR_WEIGHTS_GIB: "15.27" },
    });
    await waitForReady(emulator);
  });
  afterAll(() => stopEmulator(emulator));

  it("prints a startup log that parses to a ready state with the configured figures", () => {
    const state = readVllmStartup(lines(emulator.output()));
    expect(state.status).toBe("ready");
    expect(state.url).toBe(emulator.baseUrl);
    expect(state.actual).toMatchObject({
      engineVersion: "0.13.0",
      weightsGiB: 15.27,
      availableKvGiB: 9,
      kvCacheTokens: 65536,
      maxConcurrency: 8,
      maxConcurrencyTokensPerRequest: 8192,
      cudaGraphGiB: 1.18,
    });
  });

  it("lists the served model name", async () => {
    const body = (await (await fetch(`${emulator.baseUrl}/v1/models`)).json()) as {
      object: string;
      data: { id: string; root: string; max_model_len: number }[];
    };
    expect(body.object).toBe("list");
    expect(body.data).toEqual([
      expect.objectContaining({ id: "qwen-small", root: "Qwen/Qwen3-8B", max_model_len: 8192 }),
    ]);
  });

  it("answers a chat completion with the OpenAI shape and usage", async () => {
    const response = await postJson(`${emulator.baseUrl}/v1/chat/completions`, {
      model: "qwen-small",
      messages: [{ role: "user", content: "Say hello in five words" }],
      max_tokens: 4,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      model: string;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("qwen-small");
    expect(body.choices[0]?.message.role).toBe("assistant");
    expect(body.choices[0]?.message.content.split(" ")).toHaveLength(4);
    expect(body.choices[0]?.finish_reason).toBe("length");
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
  });

  it("with ignore_eos generates exactly max_tokens tokens, past the end of its reply", async () => {
    const response = await postJson(`${emulator.baseUrl}/v1/chat/completions`, {
      model: "qwen-small",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 40,
      ignore_eos: true,
    });
    const body = (await response.json()) as {
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { completion_tokens: number };
    };
    expect(body.choices[0]?.message.content.split(" ")).toHaveLength(40);
    expect(body.choices[0]?.finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(40);
  });

  it("streams a chat completion chunk by chunk, then [DONE]", async () => {
    const plain = (await (
      await postJson(`${emulator.baseUrl}/v1/chat/completions`, {
        messages: [{ role: "user", content: "hi" }],
      })
    ).json()) as { choices: { message: { content: string } }[] };
    const response = await postJson(`${emulator.baseUrl}/v1/chat/completions`, {
      model: "qwen-small",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const payloads = await readSse(response);
    expect(payloads.at(-1)).toBe("[DONE]");
    const chunks = payloads.slice(0, -1).map(
      (payload) =>
        JSON.parse(payload) as {
          object: string;
          choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
          usage?: { completion_tokens: number };
        },
    );
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(content).toBe(plain.choices[0]?.message.content);
    const withChoices = chunks.filter((chunk) => chunk.choices.length > 0);
    expect(withChoices.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(content.split(" ").length);
  });

  it("answers /v1/completions plain and streamed", async () => {
    const plain = (await (
      await postJson(`${emulator.baseUrl}/v1/completions`, {
        model: "qwen-small",
        prompt: "Once upon",
        max_tokens: 3,
      })
    ).json()) as { object: string; choices: { text: string }[]; usage: { prompt_tokens: number } };
    expect(plain.object).toBe("text_completion");
    expect(plain.usage.prompt_tokens).toBe(2);
    const payloads = await readSse(
      await postJson(`${emulator.baseUrl}/v1/completions`, {
        prompt: "Once upon",
        max_tokens: 3,
        stream: true,
      }),
    );
    expect(payloads.at(-1)).toBe("[DONE]");
    const text = payloads
      .slice(0, -1)
      .map((payload) => (JSON.parse(payload) as { choices: { text: string }[] }).choices[0]?.text ?? "")
      .join("");
    expect(text).toBe(plain.choices[0]?.text);
  });

  it("refuses an unknown model with an OpenAI error body", async () => {
    const response = await postJson(`${emulator.baseUrl}/v1/chat/completions`, {
      model: "other",
      messages: [],
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain("`other`");
  });

  it("exposes vLLM's Prometheus metric names, with the tokens served so far", async () => {
    const text = await (await fetch(`${emulator.baseUrl}/metrics`)).text();
    for (const name of [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:kv_cache_usage_perc",
      "vllm:prompt_tokens_total",
      "vllm:generation_tokens_total",
      "vllm:time_to_first_token_seconds_bucket",
      "vllm:e2e_request_latency_seconds_count",
    ]) {
      expect(text).toContain(`${name}{`);
    }
    expect(text).toContain("# TYPE vllm:time_to_first_token_seconds histogram");
    const generated = /^vllm:generation_tokens_total\{[^}]*\} (\S+)$/m.exec(text)?.[1];
    expect(Number(generated)).toBeGreaterThan(0);
  });

  it("stops on SIGTERM with exit code 0 after printing uvicorn's shutdown lines", async () => {
    emulator.child.kill("SIGTERM");
    const exit = await waitForExit(emulator);
    expect(exit.code).toBe(0);
    expect(emulator.output()).toContain("Application shutdown complete.");
  });
});

describe("scenario slow-start", () => {
  let emulator: RunningEmulator | undefined;
  // each test starts its own: stop it after that test, or the first one outlives the run
  afterEach(() => stopEmulator(emulator));

  it("answers 503 on /health while loading, 200 once ready (SIGUSR1 ends the load)", async () => {
    const started = await startEmulator("slow-start");
    emulator = started;
    const before = await pollUntil(async () => {
      const status = await statusOf(`${started.baseUrl}/health`);
      return status === "refused" ? undefined : status;
    }, "the port to answer");
    expect(before).toBe(503);
    expect(readVllmStartup(lines(started.output())).phase).toBe("loading-weights");
    started.child.kill("SIGUSR1");
    await waitForReady(started);
    expect(readVllmStartup(lines(started.output())).status).toBe("ready");
  });

  it("stops on SIGTERM while still loading", async () => {
    const started = await startEmulator("slow-start");
    emulator = started;
    await pollUntil(
      async () => (started.output().includes("checkpoint shards") ? true : undefined),
      "loading",
    );
    started.child.kill("SIGTERM");
    expect((await waitForExit(started)).code).toBe(0);
  });
});

describe("failure scenarios", () => {
  it.each([
    ["crash-during-load", "engine-init-failed"],
    ["oom", "cuda-out-of-memory"],
    ["no-kv-memory", "no-kv-cache-memory"],
    ["max-model-len", "max-model-len-too-large"],
  ] as const)("%s exits 1 and its log names the cause %s", async (scenario, cause) => {
    const emulator = await startEmulator(scenario, { env: { EMULATOR_KV_TOKENS: "34745" } });
    try {
      const exit = await waitForExit(emulator);
      expect(exit.code).toBe(1);
      const state = readVllmStartup(lines(emulator.output()));
      expect(state.status).toBe("failed");
      expect(primaryFailure(state)?.cause).toBe(cause);
      if (scenario === "max-model-len") {
        expect(primaryFailure(state)).toMatchObject({ maxModelLen: 262144, estimatedMaxModelLen: 34736 });
      }
    } finally {
      await stopEmulator(emulator);
    }
  });

  it("port-in-use exits 1 with uvicorn's bind error when the port is taken", async () => {
    const port = await findFreePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    const emulator = await startEmulator("port-in-use", { port });
    try {
      expect((await waitForExit(emulator)).code).toBe(1);
      const failure = primaryFailure(readVllmStartup(lines(emulator.output())));
      expect(failure).toMatchObject({ cause: "address-in-use", port });
      expect(failure?.message).toContain("[Errno 98]");
    } finally {
      await stopEmulator(emulator);
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("refuses an unknown scenario with exit code 2", async () => {
    const emulator = await startEmulator("no-such-scenario");
    expect((await waitForExit(emulator)).code).toBe(2);
    expect(emulator.output()).toContain("EMULATOR_SCENARIO must be one of");
  });
});

describe("legacy metric name", () => {
  it("exposes vllm:gpu_cache_usage_perc when EMULATOR_LEGACY_METRICS=1", async () => {
    const emulator = await startEmulator("ok", { env: { EMULATOR_LEGACY_METRICS: "1" } });
    try {
      await waitForReady(emulator);
      const text = await (await fetch(`${emulator.baseUrl}/metrics`)).text();
      expect(text).toContain("vllm:gpu_cache_usage_perc{");
      expect(text).not.toContain("vllm:kv_cache_usage_perc");
    } finally {
      await stopEmulator(emulator);
    }
  });
});
