/**
 * Samples live GPU usage (memory, utilization, power, temperature) at a fixed interval with the
 * runtime's GPU detection, and integrates energy from power draw.
 *
 * Energy is the trapezoid of power over the REAL time between two samples, measured with a
 * monotonic clock (a late sample covers a longer interval; a fixed step would be wrong). A gap longer
 * than `maxGapIntervals` intervals (the machine slept, the tool hung) is not integrated across.
 * Samples never overlap: while one runs (a slow nvidia-smi), ticks are skipped, not stacked.
 */
import { detectGpus } from "../hardware/index.js";
import type { DetectedGpu, GpuDetection, ToolOutcome } from "../hardware/types.js";
import { PeriodicTask } from "../periodic-task.js";
import { type MonotonicClock, monotonicNow } from "./clock.js";

const MIB = 1024 * 1024;

export interface GpuLive {
  /** Stable identity: the UUID, else vendor and index. */
  key: string;
  vendor: DetectedGpu["vendor"];
  index: number;
  visibleIndex: number;
  uuid: string | null;
  name: string;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  utilizationPercent: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  temperatureC: number | null;
  /** Energy integrated since the sampler started (J). */
  energyJoules: number;
}

export interface GpuInterval {
  /** Seconds covered since this GPU's previous sample; 0 on the first sample or after a gap. */
  seconds: number;
  /** Energy added over those seconds (J); 0 when power is not reported. */
  energyJoules: number;
  /** seconds x mean utilization (busy GPU-seconds). */
  busySeconds: number;
}

export interface GpuSample {
  at: string;
  ok: boolean;
  gpus: GpuLive[];
  /** By GPU key: what this sample added. */
  intervals: Record<string, GpuInterval>;
  /** Why no GPU could be read (every tool missing or failing), else null. */
  failure: { message: string; tools: ToolOutcome[] } | null;
  warnings: string[];
}

export interface GpuSamplerOptions {
  intervalMs: number;
  detect?: () => Promise<GpuDetection>;
  clock?: MonotonicClock;
  wallNow?: () => number;
  /** A longer silence than this many intervals is a gap: no energy is integrated across it. */
  maxGapIntervals?: number;
  onSample?: (sample: GpuSample) => void;
}

interface GpuState {
  atMs: number;
  powerDrawW: number | null;
  utilizationPercent: number | null;
  energyJoules: number;
}

function keyOf(gpu: DetectedGpu): string {
  return gpu.uuid ?? `${gpu.vendor}-${gpu.index}`;
}

function failureMessage(tools: readonly ToolOutcome[]): string {
  if (tools.length === 0) return "no GPU tool was run";
  return `no GPU tool worked: ${tools.map((t) => `${t.tool} ${t.status}${t.message ? ` (${t.message})` : ""}`).join("; ")}`;
}

export class GpuSampler {
  private readonly states = new Map<string, GpuState>();
  private readonly detect: () => Promise<GpuDetection>;
  private readonly clock: MonotonicClock;
  private readonly wallNow: () => number;
  private readonly maxGapMs: number;
  private readonly task: PeriodicTask<GpuSample>;
  private last: GpuSample | null = null;

  constructor(private readonly options: GpuSamplerOptions) {
    this.detect = options.detect ?? (() => detectGpus());
    this.clock = options.clock ?? monotonicNow;
    this.wallNow = options.wallNow ?? Date.now;
    this.maxGapMs = (options.maxGapIntervals ?? 3) * options.intervalMs;
    this.task = new PeriodicTask(options.intervalMs, () => this.take());
  }

  /** Ticks skipped because the previous sample was still running. */
  get skippedTicks(): number {
    return this.task.skippedTicks;
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  latest(): GpuSample | null {
    return this.last;
  }

  /** Takes a sample now, or joins the one in flight. */
  sampleNow(): Promise<GpuSample> {
    return this.task.runNow();
  }

  private async take(): Promise<GpuSample> {
    let detection: GpuDetection;
    try {
      detection = await this.detect();
    } catch (error) {
      return this.publish({
        at: new Date(this.wallNow()).toISOString(),
        ok: false,
        gpus: [],
        intervals: {},
        failure: { message: `GPU detection failed: ${(error as Error).message ?? String(error)}`, tools: [] },
        warnings: [],
      });
    }
    const atMs = this.clock();
    const worked = detection.tools.some((t) => t.status === "ok");
    if (detection.gpus.length === 0 && !worked) {
      return this.publish({
        at: new Date(this.wallNow()).toISOString(),
        ok: false,
        gpus: [],
        intervals: {},
        failure: { message: failureMessage(detection.tools), tools: detection.tools },
        warnings: detection.warnings,
      });
    }
    const intervals: Record<string, GpuInterval> = {};
    const gpus = detection.gpus.map((gpu): GpuLive => {
      const key = keyOf(gpu);
      const previous = this.states.get(key);
      const interval = this.integrate(previous, atMs, gpu);
      intervals[key] = interval;
      const energyJoules = (previous?.energyJoules ?? 0) + interval.energyJoules;
      this.states.set(key, {
        atMs,
        powerDrawW: gpu.powerDrawW,
        utilizationPercent: gpu.utilizationPercent,
        energyJoules,
      });
      return {
        key,
        vendor: gpu.vendor,
        index: gpu.index,
        visibleIndex: gpu.visibleIndex,
        uuid: gpu.uuid,
        name: gpu.name,
        memoryUsedBytes: gpu.memoryUsedMiB === null ? null : gpu.memoryUsedMiB * MIB,
        memoryTotalBytes: gpu.memoryTotalMiB === null ? null : gpu.memoryTotalMiB * MIB,
        utilizationPercent: gpu.utilizationPercent,
        powerDrawW: gpu.powerDrawW,
        powerLimitW: gpu.powerLimitW,
        temperatureC: gpu.temperatureC,
        energyJoules,
      };
    });
    return this.publish({
      at: new Date(this.wallNow()).toISOString(),
      ok: true,
      gpus,
      intervals,
      failure: null,
      warnings: detection.warnings,
    });
  }

  /** Trapezoid over the measured interval; nothing across a gap or on the first sample. */
  private integrate(previous: GpuState | undefined, atMs: number, gpu: DetectedGpu): GpuInterval {
    if (previous === undefined) return { seconds: 0, energyJoules: 0, busySeconds: 0 };
    const elapsedMs = atMs - previous.atMs;
    if (!(elapsedMs > 0) || elapsedMs > this.maxGapMs) return { seconds: 0, energyJoules: 0, busySeconds: 0 };
    const seconds = elapsedMs / 1000;
    const p0 = previous.powerDrawW;
    const p1 = gpu.powerDrawW;
    const energyJoules = p0 !== null && p1 !== null ? ((p0 + p1) / 2) * seconds : 0;
    const u0 = previous.utilizationPercent;
    const u1 = gpu.utilizationPercent;
    const busySeconds = u0 !== null && u1 !== null ? ((u0 + u1) / 200) * seconds : 0;
    return { seconds, energyJoules, busySeconds };
  }

  private publish(sample: GpuSample): GpuSample {
    this.last = sample;
    try {
      this.options.onSample?.(sample);
    } catch {
      // a listener's failure is the listener's business
    }
    return sample;
  }
}
