import type { GpuSpec } from "../gpu/gpu-spec.js";
import type { GpuMemoryTarget } from "./types.js";

const GIB = 2 ** 30;

/** The memory-model view of a catalog GPU; `totalGiB` / `freeBytes` override with measured values. */
export function gpuTarget(
  gpu: GpuSpec,
  overrides: { totalGiB?: number | null; freeBytes?: number | null } = {},
): GpuMemoryTarget {
  return {
    vendor: gpu.vendor,
    totalBytes: (overrides.totalGiB ?? gpu.memory.runtimeGiB) * GIB,
    freeBytes: overrides.freeBytes ?? null,
    computeCapability: gpu.computeCapability,
    gfxTarget: gpu.gfxTarget,
    fp8: gpu.fp8,
  };
}
