import { ServepilotError } from "../core/errors.js";
import { matchDetectedGpu } from "../core/gpu/match-gpu.js";
import { loadGpuCatalog } from "./catalog/gpu-catalog.js";
import { detectGpus } from "./hardware/index.js";
import type { DetectedGpu, DetectGpusOptions, GpuDetection } from "./hardware/types.js";

export interface MatchedGpu extends DetectedGpu {
  /** The catalog entry this device is, or null when its name and memory match none. */
  catalogId: string | null;
  catalogName: string | null;
}

export interface DetectionReport extends Omit<GpuDetection, "gpus"> {
  gpus: MatchedGpu[];
}

/**
 * Detects the GPUs here and matches each to the catalog (name, disambiguated by memory size).
 * No GPU and no tool that worked is a GPU_DETECTION_FAILED error (exit 3) listing what was tried.
 */
export async function detectAndMatch(
  options: DetectGpusOptions & { dataDir?: string | null } = {},
): Promise<DetectionReport> {
  const [detection, catalog] = await Promise.all([
    detectGpus(options),
    loadGpuCatalog({ dataDir: options.dataDir ?? null }),
  ]);
  if (detection.gpus.length === 0 && !detection.tools.some((tool) => tool.status === "ok")) {
    const tried = detection.tools.map(
      (tool) => `${tool.tool}: ${tool.status}${tool.message ? ` (${tool.message})` : ""}`,
    );
    throw new ServepilotError(
      "GPU_DETECTION_FAILED",
      `no GPU found: ${tried.join("; ") || "no tool was tried"}`,
      {
        hint: "install the NVIDIA driver (nvidia-smi) or ROCm (amd-smi / rocm-smi), or plan for a GPU by name with --gpu",
        details: { tools: detection.tools, warnings: detection.warnings },
      },
    );
  }
  const gpus = detection.gpus.map((gpu) => {
    const match = matchDetectedGpu(gpu.name, gpu.memoryTotalMiB, catalog);
    return { ...gpu, catalogId: match?.entry.id ?? null, catalogName: match?.entry.name ?? null };
  });
  return { ...detection, gpus };
}
