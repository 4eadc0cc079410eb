/**
 * The studio's own Prometheus series for engines, GPUs and lifetime totals (served at /metrics with
 * the rest of ctx.metrics). Engine figures are the studio's derivations per instance; the engines'
 * raw series stay on the engines' own /metrics (deploy/grafana/README.md shows how to scrape both).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { InstanceMetrics } from "../../runtime/metrics/engine-scraper.js";
import type { GpuSample } from "../../runtime/metrics/gpu-sampler.js";
import type { LifetimeCounter, LifetimeTotals } from "./persistence.js";

const ENGINE_LABELS = ["instance", "model", "engine"] as const;
const GPU_LABELS = ["gpu", "uuid", "name"] as const;

type EngineLabels = Record<(typeof ENGINE_LABELS)[number], string>;
type GpuLabels = Record<(typeof GPU_LABELS)[number], string>;

/** Engine gauges: metric name, help, and how to read the value from a derivation. */
const ENGINE_GAUGES: Array<[string, string, (m: NonNullable<InstanceMetrics["metrics"]>) => number | null]> =
  [
    [
      "servepilot_engine_prompt_tokens_per_second",
      "Prompt (prefill) tokens per second over the last scrape interval.",
      (m) => m.promptTokensPerSecond,
    ],
    [
      "servepilot_engine_generation_tokens_per_second",
      "Generated tokens per second over the last scrape interval.",
      (m) => m.generationTokensPerSecond,
    ],
    [
      "servepilot_engine_requests_per_second",
      "Requests finished per second over the last scrape interval.",
      (m) => m.requestsPerSecond,
    ],
    [
      "servepilot_engine_ttft_mean_seconds",
      "Mean time to first token over the last scrape interval.",
      (m) => seconds(m.ttft.meanMs),
    ],
    [
      "servepilot_engine_ttft_p50_seconds",
      "Median time to first token over the last scrape interval (bucket interpolation).",
      (m) => seconds(m.ttft.p50Ms),
    ],
    [
      "servepilot_engine_ttft_p95_seconds",
      "95th percentile time to first token over the last scrape interval (bucket interpolation).",
      (m) => seconds(m.ttft.p95Ms),
    ],
    [
      "servepilot_engine_tpot_mean_seconds",
      "Mean time per output token over the last scrape interval.",
      (m) => seconds(m.tpot.meanMs),
    ],
    [
      "servepilot_engine_tpot_p50_seconds",
      "Median time per output token over the last scrape interval (bucket interpolation).",
      (m) => seconds(m.tpot.p50Ms),
    ],
    [
      "servepilot_engine_tpot_p95_seconds",
      "95th percentile time per output token over the last scrape interval (bucket interpolation).",
      (m) => seconds(m.tpot.p95Ms),
    ],
    ["servepilot_engine_running_requests", "Requests the engine is running.", (m) => m.runningRequests],
    [
      "servepilot_engine_waiting_requests",
      "Requests waiting in the engine's queue.",
      (m) => m.waitingRequests,
    ],
    [
      "servepilot_engine_kv_cache_usage_ratio",
      "KV-cache usage as the engine reports it (1 = full).",
      (m) => ratio(m.kvCacheUsagePercent),
    ],
    [
      "servepilot_engine_preemptions_per_second",
      "Preempted (vLLM) or retracted (SGLang) requests per second over the last scrape interval.",
      (m) => m.preemptionsPerSecond,
    ],
    [
      "servepilot_engine_prefix_cache_hit_ratio",
      "Share of prompt tokens served from the prefix cache over the last scrape interval.",
      (m) => ratio(m.prefixCacheHitPercent),
    ],
  ];

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

function ratio(percent: number | null): number | null {
  return percent === null ? null : percent / 100;
}

/** Lifetime counters exported per model. */
const LIFETIME_PER_MODEL: Array<[string, string, LifetimeCounter]> = [
  [
    "servepilot_lifetime_prompt_tokens_total",
    "Prompt tokens served, over the studio's whole life.",
    "prompt_tokens",
  ],
  [
    "servepilot_lifetime_generation_tokens_total",
    "Generated tokens served, over the studio's whole life.",
    "generation_tokens",
  ],
  ["servepilot_lifetime_requests_total", "Requests finished, over the studio's whole life.", "requests"],
  [
    "servepilot_lifetime_gpu_seconds_total",
    "GPU-seconds held by instances of the model, over the studio's whole life.",
    "gpu_seconds",
  ],
];

export class StudioMetricsExporter {
  private readonly engineGauges: Array<
    [Gauge<(typeof ENGINE_LABELS)[number]>, (typeof ENGINE_GAUGES)[number][2]]
  >;
  private readonly engineUp: Gauge<(typeof ENGINE_LABELS)[number]>;
  private readonly engineLabels = new Map<string, EngineLabels>();
  private readonly gpuGauges: {
    memoryUsed: Gauge<(typeof GPU_LABELS)[number]>;
    memoryTotal: Gauge<(typeof GPU_LABELS)[number]>;
    utilization: Gauge<(typeof GPU_LABELS)[number]>;
    power: Gauge<(typeof GPU_LABELS)[number]>;
    temperature: Gauge<(typeof GPU_LABELS)[number]>;
  };
  private readonly gpuEnergy: Counter<(typeof GPU_LABELS)[number]>;
  private readonly gpuDetectionUp: Gauge;

  constructor(registry: Registry, lifetime: () => LifetimeTotals) {
    const registers = [registry];
    this.engineGauges = ENGINE_GAUGES.map(([name, help, read]) => [
      new Gauge({ name, help, labelNames: ENGINE_LABELS, registers }),
      read,
    ]);
    this.engineUp = new Gauge({
      name: "servepilot_engine_up",
      help: "1 when the last scrape of the instance's /metrics succeeded, 0 when it failed (figures are stale).",
      labelNames: ENGINE_LABELS,
      registers,
    });
    const gpuGauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: GPU_LABELS, registers });
    this.gpuGauges = {
      memoryUsed: gpuGauge("servepilot_gpu_memory_used_bytes", "GPU memory in use."),
      memoryTotal: gpuGauge("servepilot_gpu_memory_total_bytes", "GPU memory as the GPU tool reports it."),
      utilization: gpuGauge("servepilot_gpu_utilization_percent", "GPU utilization (0-100)."),
      power: gpuGauge("servepilot_gpu_power_watts", "GPU power draw."),
      temperature: gpuGauge("servepilot_gpu_temperature_celsius", "GPU temperature."),
    };
    this.gpuEnergy = new Counter({
      name: "servepilot_gpu_energy_joules_total",
      help: "Energy drawn by the GPU since the studio started (trapezoid of power over measured time).",
      labelNames: GPU_LABELS,
      registers,
    });
    this.gpuDetectionUp = new Gauge({
      name: "servepilot_gpu_detection_up",
      help: "1 when the last GPU sample could be read, 0 when no GPU tool worked.",
      registers,
    });
    for (const [name, help, counter] of LIFETIME_PER_MODEL) {
      const metric: Counter<"model"> = new Counter({
        name,
        help,
        labelNames: ["model"],
        registers,
        collect() {
          metric.reset();
          for (const [model, values] of Object.entries(lifetime().models)) {
            metric.inc({ model }, values[counter] ?? 0);
          }
        },
      });
    }
    const energy: Counter = new Counter({
      name: "servepilot_lifetime_energy_watt_hours_total",
      help: "GPU energy drawn while the studio sampled, over the studio's whole life (Wh).",
      registers,
      collect() {
        energy.reset();
        energy.inc(lifetime().totals.energy_wh);
      },
    });
  }

  updateEngine(result: InstanceMetrics): void {
    const labels: EngineLabels = { instance: result.instance, model: result.model, engine: result.engine };
    const previous = this.engineLabels.get(result.instance);
    if (previous !== undefined && (previous.model !== labels.model || previous.engine !== labels.engine)) {
      this.removeInstance(result.instance);
    }
    this.engineLabels.set(result.instance, labels);
    this.engineUp.set(labels, result.stale ? 0 : 1);
    if (result.metrics === null) return;
    for (const [gauge, read] of this.engineGauges) {
      const value = read(result.metrics);
      if (value === null || !Number.isFinite(value)) gauge.remove(labels);
      else gauge.set(labels, value);
    }
  }

  /** Drops the series of instances not in `live`. */
  keepInstances(live: ReadonlySet<string>): void {
    for (const instance of [...this.engineLabels.keys()])
      if (!live.has(instance)) this.removeInstance(instance);
  }

  removeInstance(instance: string): void {
    const labels = this.engineLabels.get(instance);
    if (labels === undefined) return;
    this.engineUp.remove(labels);
    for (const [gauge] of this.engineGauges) gauge.remove(labels);
    this.engineLabels.delete(instance);
  }

  updateGpus(sample: GpuSample): void {
    this.gpuDetectionUp.set(sample.ok ? 1 : 0);
    for (const gpu of sample.gpus) {
      const labels: GpuLabels = { gpu: String(gpu.index), uuid: gpu.uuid ?? "", name: gpu.name };
      const set = (gauge: Gauge<(typeof GPU_LABELS)[number]>, value: number | null) => {
        if (value === null || !Number.isFinite(value)) gauge.remove(labels);
        else gauge.set(labels, value);
      };
      set(this.gpuGauges.memoryUsed, gpu.memoryUsedBytes);
      set(this.gpuGauges.memoryTotal, gpu.memoryTotalBytes);
      set(this.gpuGauges.utilization, gpu.utilizationPercent);
      set(this.gpuGauges.power, gpu.powerDrawW);
      set(this.gpuGauges.temperature, gpu.temperatureC);
      this.gpuEnergy.inc(labels, sample.intervals[gpu.key]?.energyJoules ?? 0);
    }
  }
}
