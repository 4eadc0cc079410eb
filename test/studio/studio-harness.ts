/**
 * Starts a real studio (real Fastify on a loopback port, real SQLite file) in this process, with an
 * isolated HOME, the fake GPU tools replaying a captured nvidia-smi scenario, and the vLLM emulator
 * as the `vllm` program. The JSON log goes to <dataDir>/studio.log for post-mortems.
 */
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Studio, type StudioOptions, startStudio } from "../../src/studio/index.js";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import { EMULATOR } from "../runtime/engines/emulator-process.js";

export interface TestStudio extends Studio {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** fetch() against the studio, JSON in and out, with the API key when one is set. */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    // biome-ignore lint/suspicious/noExplicitAny: tests navigate response bodies freely
    body: any;
    headers: Headers;
  }>;
}

export function studioEnv(
  extra: NodeJS.ProcessEnv = {},
  scenario = "h100-sxm-8x-nvlink.json",
): NodeJS.ProcessEnv {
  return fakeToolsEnv(scenario, {
    SERVEPILOT_VLLM_BIN: EMULATOR,
    EMULATOR_SCENARIO: "ok",
    EMULATOR_LINE_DELAY_MS: "0",
    ...extra,
  });
}

export async function startTestStudio(options: Partial<StudioOptions> = {}): Promise<TestStudio> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sp-studio-"));
  const env = options.env ?? studioEnv();
  const studio = await startStudio({
    port: 0,
    logLevel: "debug",
    logStream: createWriteStream(join(dataDir, "studio.log"), { flags: "a" }),
    gpuSampleMs: 1000,
    scrapeMs: 200,
    watchdogMs: 200,
    heartbeatMs: 1000,
    ...options,
    dataDir,
    env,
  });
  const api: TestStudio["api"] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["content-type"] = "application/json";
    }
    if (studio.ctx.options.apiKey && !("authorization" in headers) && !("x-api-key" in headers)) {
      headers.authorization = `Bearer ${studio.ctx.options.apiKey}`;
    }
    const response = await fetch(`${studio.url}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      ...(init.body !== undefined
        ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }
        : {}),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      // not JSON (Prometheus text, HTML)
    }
    return { status: response.status, body, headers: response.headers };
  };
  return { ...studio, dataDir, env, api };
}
