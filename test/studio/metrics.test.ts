/**
 * Studio metrics over real HTTP: the vLLM emulator scraped while it serves completions (metrics
 * events, /api/metrics, the studio's /metrics), GPUs from the fake nvidia-smi, peaks and lifetime
 * totals that survive a restart, the 503 without GPU tools, and the Grafana dashboard's names.
 *
 * The studio runs only the system and metrics modules: the instance record is written here, so the
 * test does not depend on the lifecycle code.
 */
import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { metricNamesOf } from "../../src/core/metrics/engine-metrics.js";
import { parsePromText } from "../../src/core/metrics/prom-text.js";
import { loadEngineMetricMaps } from "../../src/runtime/metrics/engine-metric-names.js";
import { writeInstance } from "../../src/runtime/supervisor/state-store.js";
import { type Studio, type StudioOptions, startStudio } from "../../src/studio/index.js";
import { gatewayModule } from "../../src/studio/modules/gateway.js";
import { metricsModule } from "../../src/studio/modules/metrics.js";
import { systemModule } from "../../src/studio/modules/system.js";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import {
  pollUntil,
  type RunningEmulator,
  startEmulator,
  stopEmulator,
  waitForReady,
} from "../runtime/engines/emulator-process.js";
import { chat, emulatorGenerationTokens, MODEL, recordFor } from "./metrics-helpers.js";

const KEY = "metrics-test-key-0123456789";

interface MetricsStudio extends Studio {
  dataDir: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate response bodies freely
  api(path: string): Promise<{ status: number; body: any }>;
}

const open: MetricsStudio[] = [];

async function studio(
  options: Partial<StudioOptions> & { scenario?: string | null } = {},
): Promise<MetricsStudio> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sp-metrics-"));
  const { scenario = "h100-sxm-8x-nvlink.json", ...rest } = options;
  const s = await startStudio(
    {
      port: 0,
      logLevel: "debug",
      logStream: createWriteStream(join(dataDir, "studio.log"), { flags: "a" }),
      gpuSampleMs: 200,
      scrapeMs: 150,
      heartbeatMs: 1000,
      env: fakeToolsEnv(scenario),
      ...rest,
      dataDir,
    },
    [systemModule, metricsModule, gatewayModule],
  );
  const api: MetricsStudio["api"] = async (path) => {
    const headers: Record<string, string> = {};
    if (s.ctx.options.apiKey) headers.authorization = `Bearer ${s.ctx.options.apiKey}`;
    const response = await fetch(`${s.url}${path}`, { headers });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Prometheus text
    }
    return { status: response.status, body };
  };
  const wrapped = { ...s, dataDir, api };
  open.push(wrapped);
  return wrapped;
}

async function closeStudio(s: MetricsStudio): Promise<void> {
  await s.close();
  open.splice(open.indexOf(s), 1);
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe("engine metrics through the studio", () => {
  let emulator: RunningEmulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator("ok", { env: { EMULATOR_TOKEN_DELAY_MS: "2" } });
    await waitForReady(emulator);
  });
  afterAll(() => stopEmulator(emulator));

  it("scrapes a live engine: metrics events, /api/metrics and /metrics show tokens/s; totals survive a restart", async () => {
    const engine = emulator as RunningEmulator;
    const s = await studio({ apiKey: KEY });
    // a request answered before the studio's first scrape (as right after a launch) still counts:
    // the engine became ready after the studio started, so its counters count from zero
    await chat(engine, "served before the first scrape");
    await writeInstance(s.dataDir, recordFor(s.dataDir, engine, "emu"));
    const events: Array<Record<string, unknown>> = [];
    s.ctx.events.subscribe((event) => {
      if (event.type === "metrics") events.push(event.data as Record<string, unknown>);
    });
    // then traffic between scrapes, for the rates
    await pollUntil(async () => (events.length > 0 ? true : undefined), "a first metrics event");
    const flowing = await pollUntil(async () => {
      await chat(engine, `hello number ${events.length}`);
      return events.find((e) => (e.generationTokensPerSecond as number) > 0);
    }, "a metrics event with generation tokens/s > 0");
    expect(flowing).toMatchObject({ instance: "emu", model: MODEL, engine: "vllm", stale: false });
    expect(flowing.promptTokensPerSecond as number).toBeGreaterThan(0);

    const listed = await pollUntil(async () => {
      await chat(engine, "same prompt for the prefix cache");
      const { body } = await s.api("/api/metrics");
      const entry = body.instances.find((i: { instance: string }) => i.instance === "emu");
      return entry?.generationTokensPerSecond > 0 ? entry : undefined;
    }, "/api/metrics to show generation tokens/s > 0");
    expect(listed.ttft.meanMs).toBeGreaterThanOrEqual(0);
    expect(listed.runningRequests).toBeGreaterThanOrEqual(0);
    const one = await s.api("/api/metrics/emu");
    expect(one.status).toBe(200);
    expect(one.body.instance).toBe("emu");
    expect((await s.api("/api/metrics/nope")).status).toBe(404);

    const exposition = parsePromText((await s.api("/metrics")).body as string);
    expect(exposition.errors).toEqual([]);
    const up = exposition.samples.find(
      (x) => x.name === "servepilot_engine_up" && x.labels.instance === "emu",
    );
    expect(up?.value).toBe(1);
    expect(exposition.types.servepilot_engine_generation_tokens_per_second).toBe("gauge");

    // every generated token reaches the lifetime total once the last scrape has seen it
    const served = await emulatorGenerationTokens(engine);
    await pollUntil(async () => {
      const { body } = await s.api("/api/metrics/lifetime");
      const model = body.models[MODEL];
      return model?.generation_tokens === served && model?.gpu_seconds > 0 ? true : undefined;
    }, "the lifetime totals to catch up with the engine's counter and count GPU time");
    const peaks = (await s.api("/api/metrics/peaks")).body.peaks;
    const peak = peaks.find((p: { model: string }) => p.model === MODEL);
    expect(peak.generationTokensPerSecond).toBeGreaterThan(0);
    await closeStudio(s);

    // a new studio on the same data directory starts from the stored figures
    await writeInstance(s.dataDir, { ...recordFor(s.dataDir, engine, "emu"), status: "stopped" });
    const again = await studio({ dataDir: s.dataDir });
    const lifetime = (await again.api("/api/metrics/lifetime")).body;
    expect(lifetime.models[MODEL].generation_tokens).toBe(served);
    expect(lifetime.totals.generation_tokens).toBe(served);
    expect(lifetime.models[MODEL].gpu_seconds).toBeGreaterThan(0);
    const peaksAgain = (await again.api("/api/metrics/peaks")).body.peaks;
    expect(peaksAgain.find((p: { model: string }) => p.model === MODEL)?.generationTokensPerSecond).toBe(
      peak.generationTokensPerSecond,
    );
  });

  it("counts what an engine served while no studio ran: the next studio resumes from the stored baseline", async () => {
    const engine = emulator as RunningEmulator;
    const lifetimeTokens = async (s: Awaited<ReturnType<typeof studio>>) =>
      (await s.api("/api/metrics/lifetime")).body.totals.generation_tokens as number;
    const first = await studio({});
    const record = recordFor(first.dataDir, engine, "emu");
    await writeInstance(first.dataDir, record);
    await chat(engine, "served while the first studio runs");
    const servedFirst = await emulatorGenerationTokens(engine);
    // a new data directory, a process never counted: all of its counter is counted
    await pollUntil(
      async () => ((await lifetimeTokens(first)) === servedFirst ? true : undefined),
      "the first studio to count the engine's counter",
    );
    await closeStudio(first);

    await chat(engine, "served while no studio runs");
    const servedAfter = await emulatorGenerationTokens(engine);
    expect(servedAfter).toBeGreaterThan(servedFirst);
    const second = await studio({ dataDir: first.dataDir });
    // the same engine process (same readyAt), found running by the next studio
    await writeInstance(second.dataDir, record);
    await pollUntil(
      async () => ((await lifetimeTokens(second)) === servedAfter ? true : undefined),
      "the second studio to count what was served in between, once",
    );
    // more scrapes count nothing twice
    const scrapes = (await second.api("/api/metrics/emu")).body.scrapedAt as string;
    await pollUntil(
      async () => ((await second.api("/api/metrics/emu")).body.scrapedAt !== scrapes ? true : undefined),
      "a later scrape",
    );
    expect(await lifetimeTokens(second)).toBe(servedAfter);
  });

  it("marks an engine that stops answering stale and keeps running", async () => {
    const dying = await startEmulator("ok");
    try {
      await waitForReady(dying);
      const s = await studio();
      await writeInstance(s.dataDir, recordFor(s.dataDir, dying, "dying"));
      await pollUntil(async () => {
        const { body } = await s.api("/api/metrics/dying");
        return body?.stale === false ? true : undefined;
      }, "a first successful scrape");
      await stopEmulator(dying);
      const stale = await pollUntil(async () => {
        const { body } = await s.api("/api/metrics/dying");
        return body?.stale === true ? body : undefined;
      }, "the instance to be marked stale");
      expect(stale.error).toMatch(/fetch failed|ECONNREFUSED|no answer/);
      expect((await s.api("/api/health")).status).toBe(200);
    } finally {
      await stopEmulator(dying);
    }
  });
});

describe("GPUs through the studio", () => {
  it("serves live GPU usage, a status section and Prometheus gauges", async () => {
    const s = await studio();
    const gpus = await s.api("/api/gpus");
    expect(gpus.status).toBe(200);
    expect(gpus.body.gpus).toHaveLength(8);
    expect(gpus.body.gpus[0]).toMatchObject({ index: 0, name: expect.stringContaining("H100") });
    expect(gpus.body.gpus[0].memoryTotalBytes).toBeGreaterThan(80e9);
    const status = await s.api("/api/status");
    expect(status.body.gpus).toMatchObject({ sampled: true, ok: true, count: 8 });
    const text = (await s.api("/metrics")).body as string;
    expect(text).toMatch(/servepilot_gpu_memory_used_bytes\{gpu="0",uuid="GPU-[^"]+",name="[^"]+"\} \d/);
    expect(text).toContain("servepilot_gpu_energy_joules_total{");
    expect(text).toContain("servepilot_gpu_detection_up 1");
  });

  it("answers 503 GPU_DETECTION_FAILED with the reason when no GPU tool works, and still runs", async () => {
    const s = await studio({ scenario: null });
    const gpus = await s.api("/api/gpus");
    expect(gpus.status).toBe(503);
    expect(gpus.body.error.code).toBe("GPU_DETECTION_FAILED");
    expect(gpus.body.error.message).toContain("nvidia-smi not-found");
    expect((await s.api("/api/health")).status).toBe(200);
    expect((await s.api("/api/status")).body.gpus).toMatchObject({ ok: false });
  });
});

describe("Grafana dashboard", () => {
  const dashboardFile = new URL("../../deploy/grafana/servepilot-studio.json", import.meta.url);

  /** Metric names in a PromQL expression: identifiers that are not functions, keywords or labels. */
  function metricNames(expr: string): string[] {
    const stripped = expr
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .replace(/\{[^}]*\}/g, "")
      .replace(/\[[^\]]*\]/g, "")
      .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
    const keywords = new Set(["by", "without", "on", "ignoring", "offset", "bool", "and", "or", "unless"]);
    return [...stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
      .filter((m) => m[2] === undefined && !keywords.has(m[1] as string))
      .map((m) => m[1] as string);
  }

  it("parses, and uses only metrics the studio exports or the engines' data file lists", async () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8"));
    expect(dashboard.templating.list.map((v: { name: string }) => v.name)).toContain("datasource");
    const s = await studio();
    await s.api("/api/gpus"); // at least one GPU sample, so the GPU series exist
    const exposition = parsePromText((await s.api("/metrics")).body as string);
    const studioNames = new Set([...exposition.samples.map((x) => x.name), ...Object.keys(exposition.types)]);
    const maps = await loadEngineMetricMaps();
    const engineNames = new Set(Object.values(maps).flatMap(metricNamesOf));
    const known = (name: string) =>
      studioNames.has(name) ||
      engineNames.has(name) ||
      ["_bucket", "_sum", "_count"].some(
        (suffix) =>
          name.endsWith(suffix) &&
          (engineNames.has(name.slice(0, -suffix.length)) || studioNames.has(name.slice(0, -suffix.length))),
      );
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(20);
    const used = exprs.flatMap(metricNames);
    expect(used).toContain("servepilot_engine_generation_tokens_per_second");
    expect(used).toContain("vllm:time_to_first_token_seconds_bucket");
    expect(used.filter((name) => !known(name))).toEqual([]);
  });
});
