/**
 * Helpers of the metrics tests: an instance record for a running emulator (written by the test, so
 * the studio scrapes it without the lifecycle code), a chat request to it, and its generation counter.
 */
import { expect } from "vitest";
import { parsePromText } from "../../src/core/metrics/prom-text.js";
import type { InstanceRecord } from "../../src/runtime/supervisor/instance.js";
import { instanceLogFile } from "../../src/runtime/supervisor/state-store.js";
import type { RunningEmulator } from "../runtime/engines/emulator-process.js";

export const MODEL = "Qwen/Qwen3-8B";

export function recordFor(dataDir: string, emulator: RunningEmulator, name: string): InstanceRecord {
  return {
    version: 1,
    name,
    model: MODEL,
    servedModelName: MODEL,
    engine: "vllm",
    engineVersion: "0.13.0",
    recipeId: "generated",
    precision: "bf16",
    mode: "process",
    pid: emulator.child.pid ?? null,
    pgid: emulator.child.pid ?? null,
    startTicks: null,
    processCommandLine: [],
    containerId: null,
    containerName: null,
    logFollowerPid: null,
    argv: ["vllm", "serve", MODEL, "--port", String(emulator.port)],
    env: {},
    host: "127.0.0.1",
    port: emulator.port,
    endpoint: emulator.baseUrl,
    gpus: [{ index: 0, uuid: null, name: "NVIDIA H100 80GB HBM3" }],
    logFile: instanceLogFile(dataDir, name),
    status: "ready",
    phase: "ready",
    createdAt: new Date().toISOString(),
    readyAt: new Date().toISOString(),
    stoppedAt: null,
    failure: null,
    planned: null,
    actual: {
      engineVersion: null,
      weightsGiB: null,
      weightsSeconds: null,
      availableKvGiB: null,
      kvCacheTokens: null,
      gpuBlocks: null,
      maxConcurrency: null,
      maxConcurrencyTokensPerRequest: null,
      cudaGraphGiB: null,
    },
    planVsActual: [],
  };
}

export async function chat(emulator: RunningEmulator, text: string): Promise<void> {
  const response = await fetch(`${emulator.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: text }] }),
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
}

export async function emulatorGenerationTokens(emulator: RunningEmulator): Promise<number> {
  const text = await (await fetch(`${emulator.baseUrl}/metrics`)).text();
  const sample = parsePromText(text).samples.find((s) => s.name === "vllm:generation_tokens_total");
  return sample?.value ?? Number.NaN;
}
