/**
 * Live metrics: scrapes every running engine's /metrics (figures per instance, `metrics` events),
 * samples the GPUs (`gpu` events, energy), keeps peak figures per model and lifetime totals in
 * SQLite, and exports all of it on the studio's Prometheus registry.
 *
 * Routes: GET /api/metrics, /api/metrics/peaks, /api/metrics/lifetime, /api/metrics/:instance,
 * /api/gpus. docs/studio-metrics.md describes them.
 */
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import { utcMinute } from "../../core/usage/analytics.js";
import { loadEngineMetricMaps } from "../../runtime/metrics/engine-metric-names.js";
import {
  EngineScraper,
  type InstanceMetrics,
  liveInstanceTargets,
} from "../../runtime/metrics/engine-scraper.js";
import { type GpuSample, GpuSampler } from "../../runtime/metrics/gpu-sampler.js";
import { liveGpuDetector } from "../../runtime/metrics/live-gpus.js";
import type { StudioContext, StudioModule } from "../context.js";
import { MetricsStore } from "../metrics/persistence.js";
import { StudioMetricsExporter } from "../metrics/prometheus.js";

/** Peaks and lifetime totals reach SQLite at most this often (and at stop). */
export const METRICS_FLUSH_MS = 5_000;

interface MetricsState {
  store: MetricsStore;
  exporter: StudioMetricsExporter;
  sampler: GpuSampler;
  scraper: EngineScraper | null;
  flushTimer: NodeJS.Timeout | null;
  /**
   * GPU energy not yet in `gpu_energy`, joules by UTC minute ("2026-11-22T15:04Z"): the current
   * minute grows with each sample and is written once the minute changes (and at stop).
   */
  energyByMinute: Map<string, number>;
  /** The newest minute a sample fell in (the one still growing). */
  energyMinute: string | null;
  /** The write in progress (one at a time, so that stop can wait for it). */
  energyWriting: Promise<void>;
}

const states = new WeakMap<StudioContext, MetricsState>();

function stateOf(ctx: StudioContext): MetricsState {
  let state = states.get(ctx);
  if (state === undefined) {
    const store = new MetricsStore(ctx.db);
    const exporter = new StudioMetricsExporter(ctx.metrics, () => store.totals());
    const sampler = new GpuSampler({
      intervalMs: ctx.options.gpuSampleMs,
      detect: liveGpuDetector({ env: ctx.env }),
      onSample: (sample) => onGpuSample(ctx, sample),
    });
    state = {
      store,
      exporter,
      sampler,
      scraper: null,
      flushTimer: null,
      energyByMinute: new Map(),
      energyMinute: null,
      energyWriting: Promise.resolve(),
    };
    states.set(ctx, state);
  }
  return state;
}

/** The event and API shape of one instance's figures. */
function instanceView(result: InstanceMetrics) {
  return {
    ...(result.metrics ?? {}),
    instance: result.instance,
    model: result.model,
    engine: result.engine,
    endpoint: result.endpoint,
    scrapedAt: result.scrapedAt,
    stale: result.stale,
    error: result.error,
    parseErrors: result.parseErrors,
  };
}

function onEngineResult(ctx: StudioContext, result: InstanceMetrics): void {
  const { store, exporter } = stateOf(ctx);
  exporter.updateEngine(result);
  const metrics = result.metrics;
  if (!result.stale && metrics !== null) {
    store.recordPeak(result.model, result.engine, metrics);
    store.add("prompt_tokens", metrics.promptTokens ?? 0, result.model);
    store.add("generation_tokens", metrics.generationTokens ?? 0, result.model);
    store.add("requests", metrics.requestsCompleted ?? 0, result.model);
  }
  if (!ctx.closing) ctx.events.publish("metrics", instanceView(result));
}

function onGpuSample(ctx: StudioContext, sample: GpuSample): void {
  const { store, exporter, scraper } = stateOf(ctx);
  exporter.updateGpus(sample);
  if (sample.ok) {
    const joules = Object.values(sample.intervals).reduce((sum, i) => sum + i.energyJoules, 0);
    store.add("energy_wh", joules / 3600);
    addEnergy(ctx, Date.parse(sample.at), joules);
    // GPU time per model: the GPUs each live instance holds
    for (const target of scraper?.targets() ?? []) {
      for (const index of target.gpuIndices) {
        const gpu = sample.gpus.find((g) => g.index === index);
        const interval = gpu === undefined ? undefined : sample.intervals[gpu.key];
        if (interval === undefined) continue;
        store.add("gpu_seconds", interval.seconds, target.model);
        store.add("gpu_busy_seconds", interval.busySeconds, target.model);
      }
    }
  }
  if (!ctx.closing) ctx.events.publish("gpu", gpuView(sample));
}

/**
 * Adds a sample's GPU energy to its UTC minute; when a sample opens a new minute, the minutes before
 * it are written to `gpu_energy` (one upsert per minute, not one write per sample). Exported for tests.
 */
export function addEnergy(ctx: StudioContext, atMs: number, joules: number): void {
  if (!(joules > 0) || !Number.isFinite(atMs)) return;
  const state = stateOf(ctx);
  const minute = utcMinute(atMs);
  state.energyByMinute.set(minute, (state.energyByMinute.get(minute) ?? 0) + joules);
  // minutes sort as text; a sample that opens a newer minute closes the ones before it
  if (state.energyMinute === null || minute > state.energyMinute) {
    state.energyMinute = minute;
    if (state.energyByMinute.size > 1) void flushEnergy(ctx, minute);
  }
}

/**
 * Writes the pending minutes (all but `keep`, the minute still growing) with
 * `joules = joules + excluded.joules`. A failed write is logged and its joules kept for the next
 * flush: it never reaches the sampler.
 */
export function flushEnergy(ctx: StudioContext, keep: string | null = null): Promise<void> {
  const state = stateOf(ctx);
  const minutes = [...state.energyByMinute].filter(([minute]) => minute !== keep);
  for (const [minute] of minutes) state.energyByMinute.delete(minute);
  if (minutes.length === 0) return state.energyWriting;
  state.energyWriting = state.energyWriting.then(async () => {
    try {
      await ctx.db
        .insertInto("gpu_energy")
        .values(minutes.map(([minute, joules]) => ({ minute, joules })))
        .onConflict((oc) =>
          oc
            .column("minute")
            .doUpdateSet((eb) => ({ joules: eb("gpu_energy.joules", "+", eb.ref("excluded.joules")) })),
        )
        .execute();
    } catch (error) {
      for (const [minute, joules] of minutes) {
        state.energyByMinute.set(minute, (state.energyByMinute.get(minute) ?? 0) + joules);
      }
      ctx.log.error(
        { err: error, minutes: minutes.length },
        "metrics: writing GPU energy failed (kept for the next flush)",
      );
    }
  });
  return state.energyWriting;
}

function gpuView(sample: GpuSample) {
  return {
    at: sample.at,
    ok: sample.ok,
    gpus: sample.gpus,
    failure: sample.failure,
    warnings: sample.warnings,
  };
}

function gpuSummary(sample: GpuSample | null) {
  if (sample === null) return { sampled: false };
  if (!sample.ok)
    return { sampled: true, ok: false, error: sample.failure?.message ?? "GPU detection failed" };
  return {
    sampled: true,
    ok: true,
    at: sample.at,
    count: sample.gpus.length,
    memoryUsedBytes: sample.gpus.reduce((s, g) => s + (g.memoryUsedBytes ?? 0), 0),
    memoryTotalBytes: sample.gpus.reduce((s, g) => s + (g.memoryTotalBytes ?? 0), 0),
    powerDrawW: sample.gpus.reduce((s, g) => s + (g.powerDrawW ?? 0), 0),
    gpus: sample.gpus.map((g) => ({
      index: g.index,
      name: g.name,
      memoryUsedBytes: g.memoryUsedBytes,
      memoryTotalBytes: g.memoryTotalBytes,
      utilizationPercent: g.utilizationPercent,
      powerDrawW: g.powerDrawW,
      temperatureC: g.temperatureC,
    })),
  };
}

async function flush(ctx: StudioContext): Promise<void> {
  try {
    await stateOf(ctx).store.flush();
  } catch (error) {
    ctx.log.error(
      { err: error },
      "metrics: writing peaks and lifetime totals failed (kept for the next flush)",
    );
  }
}

const InstanceParams = z.object({ instance: z.string().min(1).max(63) });

export const metricsModule: StudioModule = {
  name: "metrics",

  routes(app, ctx) {
    ctx.services.peaks = stateOf(ctx).store;
    const state = stateOf(ctx);
    ctx.statusSections.set("gpus", () => gpuSummary(state.sampler.latest()));

    app.get(
      "/api/metrics",
      {
        schema: {
          summary:
            "The latest engine figures of every live instance (tokens/s, TTFT, TPOT, queue, KV cache).",
        },
      },
      async () => ({ instances: (state.scraper?.latest() ?? []).map(instanceView) }),
    );

    app.get(
      "/api/metrics/peaks",
      { schema: { summary: "The best figures each model reached while served (kept across restarts)." } },
      async () => ({ peaks: state.store.peakList() }),
    );

    app.get(
      "/api/metrics/lifetime",
      {
        schema: {
          summary: "Totals over the studio's whole life: tokens, requests, GPU time, energy (Wh), per model.",
        },
      },
      async () => state.store.totals(),
    );

    app.get(
      "/api/metrics/:instance",
      { schema: { summary: "The latest engine figures of one instance.", params: InstanceParams } },
      async (request) => {
        const result = state.scraper?.latestFor(request.params.instance) ?? null;
        if (result === null) {
          const names = (state.scraper?.latest() ?? []).map((r) => r.instance);
          throw new ServepilotError("NOT_FOUND", `no metrics for instance "${request.params.instance}"`, {
            hint:
              names.length > 0
                ? `instances with metrics: ${names.join(", ")}`
                : "no live instance is being scraped: launch one first",
          });
        }
        return instanceView(result);
      },
    );

    app.get(
      "/api/gpus",
      {
        schema: {
          summary: "Live GPU usage (memory, utilization, power, temperature, energy since start).",
          description:
            "503 GPU_DETECTION_FAILED with the reason when no GPU tool works; the studio still runs.",
        },
      },
      async () => {
        const sample = state.sampler.latest() ?? (await state.sampler.sampleNow());
        if (!sample.ok) {
          throw new ServepilotError(
            "GPU_DETECTION_FAILED",
            sample.failure?.message ?? "GPU detection failed",
            {
              hint: "install the NVIDIA driver (nvidia-smi) or ROCm (amd-smi / rocm-smi) and make sure it is on PATH",
              details: { tools: sample.failure?.tools ?? [] },
            },
          );
        }
        return gpuView(sample);
      },
    );
  },

  async start(ctx) {
    const state = stateOf(ctx);
    await state.store.load();
    const maps = await loadEngineMetricMaps();
    state.scraper = new EngineScraper({
      maps,
      intervalMs: ctx.options.scrapeMs,
      targets: () => liveInstanceTargets(ctx.dataDir, Object.keys(maps)),
      // an engine process resumes from what was stored as counted with the totals, else from zero
      countedBefore: (target) => state.store.countedBefore(target),
      onResult: (result) => onEngineResult(ctx, result),
      onRound: (results) => state.exporter.keepInstances(new Set(results.map((r) => r.instance))),
      onTargetsError: (error) => ctx.log.warn({ err: error }, "metrics: could not read the instance records"),
    });
    state.store.setBaselineSource(() => state.scraper?.baselines() ?? []);
    state.scraper.start();
    state.sampler.start();
    state.flushTimer = setInterval(() => void flush(ctx), METRICS_FLUSH_MS);
    state.flushTimer.unref();
  },

  async stop(ctx) {
    const state = stateOf(ctx);
    if (state.flushTimer !== null) clearInterval(state.flushTimer);
    state.flushTimer = null;
    await Promise.all([state.scraper?.stop(), state.sampler.stop()]);
    await Promise.all([flush(ctx), flushEnergy(ctx)]);
  },
};
