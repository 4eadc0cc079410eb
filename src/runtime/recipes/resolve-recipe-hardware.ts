import { ServepilotError } from "../../core/errors.js";
import type { GpuCatalogEntry, GpuSpec } from "../../core/gpu/gpu-spec.js";
import { matchDetectedGpu, matchGpu } from "../../core/gpu/match-gpu.js";
import { customGpuFromMemory } from "../../core/gpu/memory-size.js";
import type { DetectedGpu } from "../hardware/types.js";

/** The GPUs recipes are selected for: a named catalog GPU, or the ones detected here. */
export interface RecipeHardware {
  gpu: GpuSpec;
  /** The GPU count recipes may use (the free GPUs, or what the user asked for). */
  count: number;
  /** true when the GPUs were detected on this machine. */
  detected: boolean;
  /** Visible GPUs detected (null when the GPU was named). */
  detectedCount: number | null;
  /** Detected GPUs without compute processes and with (almost) no memory in use. */
  freeCount: number | null;
  /** Free memory per GPU at start (smallest over the GPUs a launch would use), bytes. */
  freeBytes: number | null;
  warnings: string[];
}

export interface ResolveRecipeHardwareInput {
  /** `--gpu`: a catalog name or a device name. */
  gpu?: string | undefined;
  /** `--gpu-count`. */
  gpuCount?: number | undefined;
  /** The count to assume for a named GPU without `--gpu-count` (the largest recipe's). */
  namedDefaultCount: number;
  catalog: readonly GpuCatalogEntry[];
  /** Runs GPU detection (only called when no GPU is named). */
  detect: () => Promise<{ gpus: DetectedGpu[] }>;
}

/** A GPU a launch can take: nothing runs on it and at most 5% of its memory is in use. */
export function isFreeGpu(gpu: DetectedGpu): boolean {
  if (gpu.processes.length > 0) return false;
  if (gpu.memoryUsedMiB === null || gpu.memoryTotalMiB === null || gpu.memoryTotalMiB <= 0) return true;
  return gpu.memoryUsedMiB / gpu.memoryTotalMiB <= 0.05;
}

export async function resolveRecipeHardware(input: ResolveRecipeHardwareInput): Promise<RecipeHardware> {
  if (input.gpu !== undefined) {
    const { entry } = matchGpu(input.gpu, input.catalog);
    return {
      gpu: entry,
      count: input.gpuCount ?? Math.max(1, input.namedDefaultCount),
      detected: false,
      detectedCount: null,
      freeCount: null,
      freeBytes: null,
      warnings: [],
    };
  }
  const { gpus } = await input.detect();
  const first = gpus[0];
  if (!first) {
    throw new ServepilotError("GPU_DETECTION_FAILED", "no GPU given and none detected on this machine", {
      hint: "name one with --gpu (e.g. --gpu H100 --gpu-count 2)",
    });
  }
  const warnings: string[] = [];
  if (new Set(gpus.map((gpu) => gpu.name)).size > 1) {
    warnings.push(
      `GPUs of different models are visible; recipes are chosen for the first one, ${first.name}`,
    );
  }
  const match = matchDetectedGpu(first.name, first.memoryTotalMiB, input.catalog);
  const gpu = match?.entry ?? customGpuFromMemory(`${first.memoryTotalMiB ?? 0}MiB`, first.vendor);
  if (!match) warnings.push(`${first.name} is not in the GPU catalog: planned as a GPU with its memory size`);
  const free = gpus.filter(isFreeGpu);
  if (free.length === 0)
    warnings.push("no GPU is free: every visible GPU runs a process or has memory in use");
  if (input.gpuCount !== undefined && input.gpuCount > free.length) {
    warnings.push(`--gpu-count ${input.gpuCount} is more than the ${free.length} free GPUs`);
  }
  const pool = free.length > 0 ? free : gpus;
  const freeMiB = Math.min(...pool.map((g) => g.memoryFreeMiB ?? Number.POSITIVE_INFINITY));
  return {
    gpu,
    count: input.gpuCount ?? pool.length,
    detected: true,
    detectedCount: gpus.length,
    freeCount: free.length,
    freeBytes: Number.isFinite(freeMiB) ? freeMiB * 2 ** 20 : null,
    warnings,
  };
}
