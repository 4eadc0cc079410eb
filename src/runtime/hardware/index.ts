/**
 * GPU detection: runs nvidia-smi and amd-smi (rocm-smi as fallback), keeps the devices the engine
 * will see under *_VISIBLE_DEVICES, and reports how every tool went. Tool problems (missing,
 * failing, hanging, printing garbage) are values in `tools` and `warnings`, never exceptions; the
 * caller decides what "no GPU" means.
 */
import { ServepilotError } from "../../core/errors.js";
import { type AmdGpu, detectAmd } from "./detect-amd.js";
import { detectNvidia, type PhysicalGpu } from "./detect-nvidia.js";
import { type NvidiaTopology, summariseGpuLinks } from "./parse-nvidia-topo.js";
import { runTool } from "./run-tool.js";
import type { ToolRunner } from "./tool-outcome.js";
import type { DetectedGpu, DetectGpusOptions, GpuDetection, GpuTopology } from "./types.js";
import { resolveAmdVisibility, resolveNvidiaVisibility, type VisibilityResult } from "./visible-devices.js";

export type * from "./types.js";

export const DEFAULT_TOOL_TIMEOUT_MS = 10_000;

function resolveTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_TOOL_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `detectGpus: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

function applyVisibility(gpus: readonly PhysicalGpu[], visibility: VisibilityResult): DetectedGpu[] {
  return visibility.devices.flatMap(({ index, visibleIndex, migUuid }) => {
    const gpu = gpus.find((candidate) => candidate.index === index);
    if (gpu === undefined) return [];
    const devices =
      migUuid === null ? gpu.mig.devices : gpu.mig.devices.filter((device) => device.uuid === migUuid);
    return [{ ...gpu, visibleIndex, mig: { enabled: gpu.mig.enabled, devices } }];
  });
}

function migWarnings(gpus: readonly DetectedGpu[], visibility: VisibilityResult): string[] {
  const warnings: string[] = [];
  for (const gpu of gpus) {
    const slice =
      visibility.devices.find((device) => device.visibleIndex === gpu.visibleIndex)?.migUuid ?? null;
    if (slice !== null) {
      const profile = gpu.mig.devices[0]?.profile ?? "unknown profile";
      warnings.push(
        `visible device ${gpu.visibleIndex} is MIG slice ${profile} of GPU ${gpu.index}; its memory figures are the whole GPU's`,
      );
    } else if (gpu.mig.enabled === true) {
      warnings.push(
        `GPU ${gpu.index} is in MIG mode: CUDA sees its MIG devices, not the whole GPU; select one with CUDA_VISIBLE_DEVICES=MIG-…`,
      );
    }
  }
  return warnings;
}

function orderWarning(gpus: readonly PhysicalGpu[], env: NodeJS.ProcessEnv): string[] {
  const usesIndices = /(^|,)\s*\d/.test(env.CUDA_VISIBLE_DEVICES ?? "");
  const mixed = new Set(gpus.map((gpu) => gpu.name)).size > 1;
  if (!usesIndices || !mixed || env.CUDA_DEVICE_ORDER === "PCI_BUS_ID") return [];
  return [
    "CUDA_VISIBLE_DEVICES uses indices on a machine with different GPU models: CUDA numbers GPUs fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so its indices may not match nvidia-smi's",
  ];
}

/** The topology among the visible GPUs (physical labels), or null when it was not read. */
function visibleTopology(topology: NvidiaTopology | null, gpus: readonly DetectedGpu[]): GpuTopology | null {
  if (topology === null) return null;
  const indices = [...new Set(gpus.map((gpu) => gpu.index))].sort((a, b) => a - b);
  const labels = indices.map((index) => `GPU${index}`);
  const matrix: Record<string, Record<string, string>> = {};
  for (const row of labels) {
    const cells = topology.matrix[row];
    if (cells === undefined) continue;
    matrix[row] = Object.fromEntries(
      labels.flatMap((column) => (cells[column] === undefined ? [] : [[column, cells[column]]])),
    );
  }
  const pairs = summariseGpuLinks(topology, indices);
  const allNvlink =
    indices.length < 2 ? null : pairs.length > 0 && pairs.every((pair) => pair.kind === "nvlink");
  return { matrix, allNvlink, pairs };
}

function withoutVisibilityIds(gpu: AmdGpu): PhysicalGpu {
  const { visibilityIds: _ids, ...rest } = gpu;
  return rest;
}

export async function detectGpus(options: DetectGpusOptions = {}): Promise<GpuDetection> {
  const env = options.env ?? process.env;
  const timeoutMs = resolveTimeout(options.timeoutMs);
  const run: ToolRunner = (bin, args) => runTool(bin, args, { timeoutMs, env });
  const bins = {
    nvidiaSmi: options.bins?.nvidiaSmi ?? "nvidia-smi",
    amdSmi: options.bins?.amdSmi ?? "amd-smi",
    rocmSmi: options.bins?.rocmSmi ?? "rocm-smi",
  };

  const [nvidia, amd] = await Promise.all([detectNvidia(bins.nvidiaSmi, run), detectAmd(bins, run)]);

  const nvidiaVisibility = resolveNvidiaVisibility(
    nvidia.gpus.map((gpu) => ({
      index: gpu.index,
      ids: gpu.uuid === null ? [] : [gpu.uuid],
      migIds: gpu.mig.devices.map((device) => device.uuid),
    })),
    env,
  );
  const amdVisibility = resolveAmdVisibility(
    amd.gpus.map((gpu) => ({ index: gpu.index, ids: gpu.visibilityIds })),
    env,
  );
  const nvidiaGpus = applyVisibility(nvidia.gpus, nvidiaVisibility);
  const amdGpus = applyVisibility(amd.gpus.map(withoutVisibilityIds), amdVisibility);

  const warnings = [
    ...nvidia.warnings,
    ...(nvidia.gpus.length > 0 ? nvidiaVisibility.warnings : []),
    ...(nvidia.gpus.length > 0 ? orderWarning(nvidia.gpus, env) : []),
    ...migWarnings(nvidiaGpus, nvidiaVisibility),
    ...amd.warnings,
    ...(amd.gpus.length > 0 ? amdVisibility.warnings : []),
  ];

  return {
    gpus: [...nvidiaGpus, ...amdGpus],
    driverVersion: nvidia.driverVersion ?? amd.driverVersion,
    cudaVersion: nvidia.cudaVersion,
    rocmVersion: amd.rocmVersion,
    topology: visibleTopology(nvidia.topology, nvidiaGpus),
    tools: [nvidia.outcome, ...amd.outcomes],
    warnings,
  };
}
