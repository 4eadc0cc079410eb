/**
 * The benchmark load against the real vLLM emulator process: counts, token figures from the usage
 * chunk, both APIs, cancel through the AbortSignal, failures counted, an unreachable endpoint.
 * No wall-clock bounds are asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeBench } from "../../../src/core/bench/summary.js";
import { ServepilotError } from "../../../src/core/errors.js";
import { type LoadProgress, runLoad, v1Base } from "../../../src/runtime/bench/load.js";
import { listServedModels, resolveBenchTarget } from "../../../src/runtime/bench/target.js";
import {
  findFreePort,
  type RunningEmulator,
  startEmulator,
  stopEmulator,
  waitForReady,
} from "../engines/emulator-process.js";

const MODEL = "Qwen/Qwen3-8B";

describe("benchmark load against the emulator", () => {
  let fast: RunningEmulator;
  let slow: RunningEmulator;

  beforeAll(async () => {
    [fast, slow] = await Promise.all([
      startEmulator("ok"),
      startEmulator("ok", { env: { EMULATOR_TOKEN_DELAY_MS: "40" } }),
    ]);
    await Promise.all([waitForReady(fast), waitForReady(slow)]);
  });
  afterAll(async () => {
    await stopEmulator(fast);
    await stopEmulator(slow);
  });

  it("sends every request, with the engine's token counts from usage", async () => {
    const progress: LoadProgress[] = [];
    const result = await runLoad({
      baseUrl: fast.baseUrl,
      model: MODEL,
      concurrency: 3,
      requests: 7,
      promptTokens: 40,
      outputTokens: 8,
      onProgress: (p) => progress.push(p),
    });
    expect(result.cancelled).toBe(false);
    expect(result.url).toBe(`${fast.baseUrl}/v1/chat/completions`);
    expect(result.samples).toHaveLength(7);
    for (const sample of result.samples) {
      expect(sample).toMatchObject({ ok: true, error: null, promptTokens: 40, outputTokens: 8 });
      expect(sample.ttftMs).not.toBeNull();
      expect(sample.tpotMs).not.toBeNull();
      expect(sample.e2eMs).toBeGreaterThanOrEqual(sample.ttftMs as number);
    }
    expect(progress.map((p) => p.completed)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(progress.every((p) => p.total === 7 && p.failed === 0)).toBe(true);
    const summary = summarizeBench(result.samples, result.wallSeconds);
    expect(summary.totalOutputTokens).toBe(56);
    expect(summary.totalPromptTokens).toBe(280);
    expect(summary.outputTokensPerSecond).toBeGreaterThan(0);
  });

  it("measures TPOT from the token spacing, over /v1/completions too", async () => {
    const result = await runLoad({
      baseUrl: `${slow.baseUrl}/v1/`,
      model: MODEL,
      api: "completions",
      concurrency: 2,
      requests: 2,
      promptTokens: 20,
      outputTokens: 5,
      warmup: false,
    });
    expect(result.url).toBe(`${slow.baseUrl}/v1/completions`);
    expect(result.samples).toHaveLength(2);
    for (const sample of result.samples) {
      expect(sample).toMatchObject({ ok: true, promptTokens: 20, outputTokens: 5 });
      // the emulator pauses between tokens, so the spacing is not 0
      expect(sample.tpotMs as number).toBeGreaterThan(0);
    }
  });

  it("stops on abort: the result says cancelled and holds fewer samples", async () => {
    const controller = new AbortController();
    const result = await runLoad({
      baseUrl: slow.baseUrl,
      model: MODEL,
      concurrency: 2,
      requests: 40,
      promptTokens: 16,
      outputTokens: 10,
      warmup: false,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.completed === 1) controller.abort();
      },
    });
    expect(result.cancelled).toBe(true);
    expect(result.samples.length).toBeGreaterThanOrEqual(1);
    expect(result.samples.length).toBeLessThan(40);
  });

  it("counts a failing request with its error; the run fails only when all do", async () => {
    let caught: unknown;
    try {
      await runLoad({
        baseUrl: fast.baseUrl,
        model: "no-such-model",
        concurrency: 1,
        requests: 2,
        promptTokens: 8,
        outputTokens: 4,
        warmup: false,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ServepilotError);
    expect((caught as ServepilotError).code).toBe("NETWORK_ERROR");
    expect((caught as ServepilotError).message).toMatch(
      /all 2 requests failed \(HTTP 404: The model `no-such-model` does not exist/,
    );
  });

  it("refuses an unreachable endpoint with the connection error", async () => {
    const port = await findFreePort();
    const attempt = runLoad({
      baseUrl: `http://127.0.0.1:${port}`,
      model: MODEL,
      concurrency: 1,
      requests: 1,
      promptTokens: 8,
      outputTokens: 4,
    });
    await expect(attempt).rejects.toThrow(ServepilotError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${port}/v1/chat/completions failed: connect ECONNREFUSED`),
    );
    await expect(listServedModels(`http://127.0.0.1:${port}`)).rejects.toThrow(/cannot reach .*ECONNREFUSED/);
  });

  it("resolves an endpoint's model from /v1/models", async () => {
    const target = await resolveBenchTarget(fast.baseUrl, { dataDir: "/nonexistent-servepilot-dir" });
    expect(target).toEqual({ baseUrl: `${fast.baseUrl}/v1`, model: MODEL, instance: null });
    await expect(
      resolveBenchTarget("some-model", { dataDir: "/nonexistent-servepilot-dir" }),
    ).rejects.toThrow(/no running instance serves "some-model"/);
  });

  it("normalises base URLs and refuses non-http ones", () => {
    expect(v1Base("http://h:1")).toBe("http://h:1/v1");
    expect(v1Base("http://h:1/v1/")).toBe("http://h:1/v1");
    expect(v1Base("https://h/prefix")).toBe("https://h/prefix/v1");
    expect(() => v1Base("ftp://h")).toThrow(/must be an http\(s\) URL/);
  });
});
