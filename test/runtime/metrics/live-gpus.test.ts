/** Live GPU detection against the fake nvidia-smi: full detection at times, the CSV query between. */
import { describe, expect, it } from "vitest";
import { detectGpus } from "../../../src/runtime/hardware/index.js";
import { liveGpuDetector } from "../../../src/runtime/metrics/live-gpus.js";
import { fakeToolsEnv } from "../../helpers/fake-gpu-tools.js";

function counted(env: NodeJS.ProcessEnv) {
  let now = 0;
  let full = 0;
  const detector = liveGpuDetector({
    env,
    fullEveryMs: 10_000,
    clock: () => now,
    detect: (options) => {
      full += 1;
      return detectGpus(options);
    },
  });
  return { detector, fullRuns: () => full, advance: (ms: number) => (now += ms) };
}

describe("liveGpuDetector", () => {
  it("refreshes live figures with one query between full detections", async () => {
    const d = counted(fakeToolsEnv("h100-sxm-8x-nvlink.json"));
    const first = await d.detector();
    expect(d.fullRuns()).toBe(1);
    d.advance(1000);
    const second = await d.detector();
    expect(d.fullRuns()).toBe(1);
    expect(second.gpus).toHaveLength(8);
    expect(second.gpus.map((g) => g.memoryUsedMiB)).toEqual(first.gpus.map((g) => g.memoryUsedMiB));
    expect(second.topology).toEqual(first.topology);
    d.advance(10_000);
    await d.detector();
    expect(d.fullRuns()).toBe(2);
  });

  it("uses only full detections when the driver rejects query fields", async () => {
    const d = counted(fakeToolsEnv("rtx3090-2x-old-driver.json"));
    const first = await d.detector();
    expect(first.gpus.length).toBeGreaterThan(0);
    await d.detector();
    await d.detector();
    expect(d.fullRuns()).toBe(3);
  });
});
