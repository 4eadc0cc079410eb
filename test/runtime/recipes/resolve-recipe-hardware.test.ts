import { describe, expect, it } from "vitest";
import { isServepilotError } from "../../../src/core/errors.js";
import { loadGpuCatalog } from "../../../src/runtime/catalog/gpu-catalog.js";
import type { DetectedGpu } from "../../../src/runtime/hardware/types.js";
import { isFreeGpu, resolveRecipeHardware } from "../../../src/runtime/recipes/resolve-recipe-hardware.js";

const catalog = await loadGpuCatalog();

function h100(index: number, over: Partial<DetectedGpu> = {}): DetectedGpu {
  return {
    vendor: "nvidia",
    index,
    visibleIndex: index,
    uuid: null,
    name: "NVIDIA H100 80GB HBM3",
    memoryTotalMiB: 81559,
    memoryUsedMiB: 1,
    memoryFreeMiB: 81080,
    utilizationPercent: 0,
    temperatureC: null,
    powerDrawW: null,
    powerLimitW: null,
    computeCapability: "9.0",
    gfxTarget: null,
    pciBusId: null,
    mig: { enabled: false, devices: [] },
    processes: [],
    ...over,
  };
}

const busy = {
  memoryUsedMiB: 70000,
  memoryFreeMiB: 11559,
  processes: [{ pid: 7, name: "python", usedMemoryMiB: 69000 }],
};

describe("resolveRecipeHardware", () => {
  it("takes a named GPU from the catalog without detecting, with the default count", async () => {
    const hardware = await resolveRecipeHardware({
      gpu: "H100",
      namedDefaultCount: 4,
      catalog,
      detect: () => Promise.reject(new Error("must not detect")),
    });
    expect(hardware).toMatchObject({ count: 4, detected: false, freeCount: null });
    expect(hardware.gpu.id).toBe("h100-sxm");
  });

  it("counts the free detected GPUs and the smallest free memory among them", async () => {
    const hardware = await resolveRecipeHardware({
      namedDefaultCount: 1,
      catalog,
      detect: async () => ({ gpus: [h100(0), h100(1, busy), h100(2, { memoryFreeMiB: 80000 })] }),
    });
    expect(hardware).toMatchObject({ count: 2, detected: true, detectedCount: 3, freeCount: 2 });
    expect(hardware.gpu.id).toBe("h100-sxm");
    expect(hardware.freeBytes).toBe(80000 * 2 ** 20);
    expect(hardware.warnings).toEqual([]);
  });

  it("honours --gpu-count and warns when it exceeds the free GPUs", async () => {
    const hardware = await resolveRecipeHardware({
      gpuCount: 4,
      namedDefaultCount: 1,
      catalog,
      detect: async () => ({ gpus: [h100(0), h100(1, busy)] }),
    });
    expect(hardware.count).toBe(4);
    expect(hardware.warnings).toEqual(["--gpu-count 4 is more than the 1 free GPUs"]);
  });

  it("plans an unknown device by its memory and says so", async () => {
    const hardware = await resolveRecipeHardware({
      namedDefaultCount: 1,
      catalog,
      detect: async () => ({ gpus: [h100(0, { name: "Mystery Accelerator 9000", memoryTotalMiB: 49152 })] }),
    });
    expect(hardware.gpu.memory.runtimeGiB).toBeCloseTo(48, 1);
    expect(hardware.warnings[0]).toContain("Mystery Accelerator 9000 is not in the GPU catalog");
  });

  it("is a GPU detection error (exit 3) when nothing is named and nothing detected", async () => {
    const error = await resolveRecipeHardware({
      namedDefaultCount: 1,
      catalog,
      detect: async () => ({ gpus: [] }),
    }).catch((e: unknown) => e);
    expect(isServepilotError(error) && error.code).toBe("GPU_DETECTION_FAILED");
  });
});

describe("isFreeGpu", () => {
  it("is false with a process or more than 5% of memory in use", () => {
    expect(isFreeGpu(h100(0))).toBe(true);
    expect(isFreeGpu(h100(0, { memoryUsedMiB: 5000 }))).toBe(false);
    expect(isFreeGpu(h100(0, { processes: [{ pid: 1, name: "x", usedMemoryMiB: null }] }))).toBe(false);
    expect(isFreeGpu(h100(0, { memoryUsedMiB: null }))).toBe(true);
  });
});
