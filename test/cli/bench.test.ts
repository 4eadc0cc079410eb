/**
 * `servepilot bench` as a real CLI process: against an endpoint (the vLLM emulator) with --json, by
 * model name against an instance `launch --detach` started (with the planner's estimate), and the
 * option checks (exit 2, the option named).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import { isolatedEnv, runCli, runCliAsync } from "../helpers/run-cli.js";
import {
  EMULATOR,
  findFreePort,
  type RunningEmulator,
  startEmulator,
  stopEmulator,
  waitForReady,
} from "../runtime/engines/emulator-process.js";

describe("servepilot bench", () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator("ok");
    await waitForReady(emulator);
  });
  afterAll(() => stopEmulator(emulator));

  it("benchmarks an endpoint and prints the full result with --json", async () => {
    const run = await runCliAsync(
      [
        "bench",
        emulator.baseUrl,
        "--concurrency",
        "2",
        "--requests",
        "6",
        "--prompt-tokens",
        "32",
        "--output-tokens",
        "6",
        "--json",
      ],
      isolatedEnv(),
    );
    expect(run.code, run.stderr).toBe(0);
    const data = run.json().data;
    expect(data.target).toEqual({
      url: `${emulator.baseUrl}/v1/chat/completions`,
      model: "Qwen/Qwen3-8B",
      instance: null,
      engine: null,
    });
    expect(data.settings).toEqual({ concurrency: 2, requests: 6, promptTokens: 32, outputTokens: 6 });
    expect(data.cancelled).toBe(false);
    expect(data.summary.requests).toEqual({ total: 6, succeeded: 6, failed: 0 });
    expect(data.summary.totalOutputTokens).toBe(36);
    expect(data.summary.meanPromptTokens).toBe(32);
    expect(data.summary.ttftMs.p50).not.toBeNull();
    expect(data.summary.tpotMs.p99).not.toBeNull();
    expect(data.summary.outputTokensPerSecond).toBeGreaterThan(0);
    expect(data.planned).toBeNull();
    expect(data.plannedUnavailable).toMatch(/no instance servepilot started/);
    expect(data.comparison).toEqual([]);
  });

  it("prints a table with percentiles", async () => {
    const run = await runCliAsync(
      ["bench", `${emulator.baseUrl}/v1`, "--model", "Qwen/Qwen3-8B", "-n", "2", "--output-tokens", "4"],
      isolatedEnv(),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("benchmark Qwen/Qwen3-8B");
    expect(run.stdout).toMatch(/metric\s+mean\s+p50\s+p95\s+p99/);
    expect(run.stdout).toMatch(/TTFT \(ms\)/);
    expect(run.stdout).toMatch(/output tokens\/s/);
  });

  it("refuses bad numbers with exit 2, naming the option", () => {
    const zero = runCli(["bench", emulator.baseUrl, "--concurrency", "0", "--json"]);
    expect(zero.code).toBe(2);
    expect(zero.json().error.message).toMatch(/--concurrency must be a positive integer/);
    const text = runCli(["bench", emulator.baseUrl, "--output-tokens", "many"]);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/--output-tokens must be a positive integer/);
    const huge = runCli(["bench", emulator.baseUrl, "--concurrency", "100000", "--json"]);
    expect(huge.code).toBe(2);
    expect(huge.json().error.message).toMatch(/--concurrency must be an integer from 1 to 1024/);
  });

  it("names the model it cannot find among running instances", () => {
    const run = runCli(["bench", "no-such-model", "--json"]);
    expect(run.code).toBe(2);
    expect(run.json().error.message).toBe('no running instance serves "no-such-model"');
  });

  it("reports an unreachable endpoint as a network error (exit 6)", async () => {
    const port = await findFreePort();
    const run = runCli(["bench", `http://127.0.0.1:${port}/v1`, "--model", "m", "--json"]);
    expect(run.code).toBe(6);
    expect(run.json().error.message).toMatch(/ECONNREFUSED/);
  });

  it("benchmarks a launched instance by model name, against the planner's estimate", async () => {
    const e = fakeToolsEnv("h100-sxm-8x-nvlink.json", {
      SERVEPILOT_VLLM_BIN: EMULATOR,
      EMULATOR_LINE_DELAY_MS: "0",
      SERVEPILOT_HOME: mkdtempSync(join(tmpdir(), "sp-cli-bench-")),
      SERVEPILOT_PORT: String(21_000 + Math.floor(Math.random() * 400) * 10),
    });
    const launched = await runCliAsync(["launch", "Qwen/Qwen3-8B", "--offline", "--detach", "--json"], e);
    expect(launched.code, launched.stderr).toBe(0);
    try {
      const run = await runCliAsync(
        ["bench", "Qwen/Qwen3-8B", "-n", "3", "--prompt-tokens", "64", "--output-tokens", "8", "--json"],
        e,
      );
      expect(run.code, run.stderr).toBe(0);
      const data = run.json().data;
      expect(data.target.instance).toBe("qwen3-8b");
      expect(data.target.engine).toBe("vllm");
      expect(data.summary.requests.succeeded).toBe(3);
      expect(data.plannedUnavailable).toBeNull();
      expect(data.planned.ttftMs).toBeGreaterThan(0);
      expect(data.planned.tpotMs).toBeGreaterThan(0);
      expect(data.planned.outputTokensPerSecond).toBeGreaterThan(0);
      expect(data.comparison.map((c: { metric: string }) => c.metric)).toEqual([
        "ttftMs",
        "tpotMs",
        "outputTokensPerSecond",
      ]);
    } finally {
      runCli(["stop", "--all"], e);
    }
  });
});
