/** GPU sampling with an injected clock and detection: exact energy integration, gaps, no overlap. */
import { describe, expect, it } from "vitest";
import type { DetectedGpu, GpuDetection } from "../../../src/runtime/hardware/types.js";
import { GpuSampler } from "../../../src/runtime/metrics/gpu-sampler.js";

function gpu(powerDrawW: number | null, utilizationPercent: number | null = 50): DetectedGpu {
  return {
    vendor: "nvidia",
    index: 0,
    visibleIndex: 0,
    uuid: "GPU-0",
    name: "NVIDIA H100 80GB HBM3",
    memoryTotalMiB: 81559,
    memoryUsedMiB: 1024,
    memoryFreeMiB: 80535,
    utilizationPercent,
    temperatureC: 40,
    powerDrawW,
    powerLimitW: 700,
    computeCapability: "9.0",
    gfxTarget: null,
    pciBusId: null,
    mig: { enabled: false, devices: [] },
    processes: [],
  };
}

function detection(gpus: DetectedGpu[]): GpuDetection {
  return {
    gpus,
    driverVersion: "565.57.01",
    cudaVersion: "12.7",
    rocmVersion: null,
    topology: null,
    tools: [{ tool: "nvidia-smi", status: "ok", message: null }],
    warnings: [],
  };
}

/** A sampler whose clock and readings the test sets before each sample. */
function scripted(intervalMs = 1000, maxGapIntervals = 3) {
  let now = 0;
  let reading: GpuDetection = detection([gpu(100)]);
  const sampler = new GpuSampler({
    intervalMs,
    maxGapIntervals,
    clock: () => now,
    detect: async () => reading,
  });
  return {
    sampler,
    at(ms: number, detected: GpuDetection) {
      now = ms;
      reading = detected;
      return sampler.sampleNow();
    },
  };
}

describe("GpuSampler energy", () => {
  it("integrates power with the trapezoid over the measured (uneven) intervals", async () => {
    const s = scripted();
    const first = await s.at(0, detection([gpu(100, 0)]));
    expect(first.intervals["GPU-0"]).toEqual({ seconds: 0, energyJoules: 0, busySeconds: 0 });
    // 1.5 s late: (100 + 300) / 2 × 1.5 = 300 J
    const second = await s.at(1500, detection([gpu(300, 100)]));
    expect(second.intervals["GPU-0"]?.seconds).toBe(1.5);
    expect(second.intervals["GPU-0"]?.energyJoules).toBe(300);
    expect(second.intervals["GPU-0"]?.busySeconds).toBe(0.75);
    // 0.25 s early: (300 + 200) / 2 × 0.25 = 62.5 J
    const third = await s.at(1750, detection([gpu(200)]));
    expect(third.intervals["GPU-0"]?.energyJoules).toBe(62.5);
    expect(third.gpus[0]?.energyJoules).toBe(362.5);
    expect(third.gpus[0]?.memoryUsedBytes).toBe(1024 * 1024 * 1024);
  });

  it("does not integrate across a gap longer than a few intervals, then resumes", async () => {
    const s = scripted(1000, 3);
    await s.at(0, detection([gpu(100)]));
    const gap = await s.at(3001, detection([gpu(100)]));
    expect(gap.intervals["GPU-0"]).toEqual({ seconds: 0, energyJoules: 0, busySeconds: 0 });
    const after = await s.at(4001, detection([gpu(200)]));
    expect(after.intervals["GPU-0"]?.energyJoules).toBe(150);
    expect(after.gpus[0]?.energyJoules).toBe(150);
  });

  it("adds no energy when the tool reports no power", async () => {
    const s = scripted();
    await s.at(0, detection([gpu(null)]));
    const next = await s.at(1000, detection([gpu(250)]));
    expect(next.intervals["GPU-0"]?.energyJoules).toBe(0);
    expect(next.intervals["GPU-0"]?.seconds).toBe(1);
  });
});

describe("GpuSampler failures and scheduling", () => {
  it("reports why no GPU could be read and keeps going", async () => {
    let calls = 0;
    const sampler = new GpuSampler({
      intervalMs: 1000,
      clock: () => calls * 1000,
      detect: async () => {
        calls += 1;
        if (calls === 1) throw new Error("spawn nvidia-smi EACCES");
        return {
          ...detection([]),
          tools: [
            { tool: "nvidia-smi", status: "not-found", message: "not on PATH" },
            { tool: "amd-smi", status: "not-found", message: null },
          ],
        };
      },
    });
    const thrown = await sampler.sampleNow();
    expect(thrown.ok).toBe(false);
    expect(thrown.failure?.message).toContain("EACCES");
    const none = await sampler.sampleNow();
    expect(none.ok).toBe(false);
    expect(none.failure?.message).toBe(
      "no GPU tool worked: nvidia-smi not-found (not on PATH); amd-smi not-found",
    );
    expect(sampler.latest()).toBe(none);
  });

  it("never runs two detections at once: a slow one is joined, ticks are skipped", async () => {
    let running = 0;
    let maxRunning = 0;
    let release: () => void = () => {};
    const sampler = new GpuSampler({
      intervalMs: 5,
      detect: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        running -= 1;
        return detection([gpu(100)]);
      },
    });
    sampler.start();
    const joined = sampler.sampleNow();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(maxRunning).toBe(1);
    expect(sampler.skippedTicks).toBeGreaterThan(0);
    release();
    await joined;
    await sampler.stop();
    expect(maxRunning).toBe(1);
  });
});
