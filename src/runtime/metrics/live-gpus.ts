/**
 * GPU detection for sampling every second. A full detection (detectGpus: nvidia-smi's query, banner,
 * `-L`, compute apps, `topo -m`, then amd-smi / rocm-smi) runs at start and every `fullEveryMs`;
 * between those, on NVIDIA-only machines, one `nvidia-smi --query-gpu` refreshes the live figures
 * (memory, utilization, temperature, power) of the GPUs the full detection found. Any surprise (the
 * query fails, a GPU appears or goes) falls back to a full detection, which reports the failure.
 */
import { detectGpus } from "../hardware/index.js";
import { NVIDIA_GPU_FIELDS, parseNvidiaGpuQuery } from "../hardware/parse-nvidia-smi.js";
import { runTool } from "../hardware/run-tool.js";
import type { GpuDetection } from "../hardware/types.js";
import { type MonotonicClock, monotonicNow } from "./clock.js";

export interface LiveGpuDetectorOptions {
  env: NodeJS.ProcessEnv;
  /** How often the full detection runs (default 60 s). */
  fullEveryMs?: number;
  /** Per-tool time limit (default 5 s). */
  timeoutMs?: number;
  clock?: MonotonicClock;
  detect?: (options: { env: NodeJS.ProcessEnv; timeoutMs: number }) => Promise<GpuDetection>;
}

export function liveGpuDetector(options: LiveGpuDetectorOptions): () => Promise<GpuDetection> {
  const fullEveryMs = options.fullEveryMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const clock = options.clock ?? monotonicNow;
  const detect = options.detect ?? detectGpus;
  let full: GpuDetection | null = null;
  let fullAt = Number.NEGATIVE_INFINITY;
  // an older driver rejects some query fields: then only the full detection (which drops them) is used
  let fastPathBroken = false;

  const fullDetection = async (): Promise<GpuDetection> => {
    full = await detect({ env: options.env, timeoutMs });
    fullAt = clock();
    return full;
  };

  return async () => {
    const last = full;
    const nvidiaOnly = last !== null && last.gpus.length > 0 && last.gpus.every((g) => g.vendor === "nvidia");
    if (last === null || !nvidiaOnly || fastPathBroken || clock() - fullAt >= fullEveryMs)
      return fullDetection();
    const answer = await runTool(
      "nvidia-smi",
      [`--query-gpu=${NVIDIA_GPU_FIELDS.join(",")}`, "--format=csv,noheader,nounits"],
      { timeoutMs, env: options.env },
    );
    if (answer.kind === "exit") fastPathBroken = true;
    if (answer.kind !== "ok") return fullDetection();
    const parsed = parseNvidiaGpuQuery(answer.stdout, NVIDIA_GPU_FIELDS);
    if (!parsed.ok) {
      fastPathBroken = true;
      return fullDetection();
    }
    const rows = parsed.value;
    const physical = new Set(last.gpus.map((g) => g.index)); // the visible GPUs' physical indices
    if (rows.length < physical.size) return fullDetection();
    const gpus = [];
    for (const gpu of last.gpus) {
      const row =
        rows.find((r) => gpu.uuid !== null && r.uuid === gpu.uuid) ?? rows.find((r) => r.index === gpu.index);
      if (row === undefined) return fullDetection();
      gpus.push({
        ...gpu,
        memoryUsedMiB: row.memoryUsedMiB,
        memoryFreeMiB: row.memoryFreeMiB,
        utilizationPercent: row.utilizationPercent,
        temperatureC: row.temperatureC,
        powerDrawW: row.powerDrawW,
        powerLimitW: row.powerLimitW,
      });
    }
    return { ...last, gpus };
  };
}
