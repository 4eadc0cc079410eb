/**
 * Which GPUs an engine gets: visible GPUs that no other live instance holds and that run no foreign
 * process (nor hold more than 5% of their memory). Refuses, naming each busy GPU, when too few are free.
 */
import { ServepilotError } from "../../core/errors.js";
import type { DetectedGpu } from "../hardware/types.js";
import { isFreeGpu } from "../recipes/resolve-recipe-hardware.js";

export interface AllocatedGpu {
  index: number;
  uuid: string | null;
  name: string;
  vendor: DetectedGpu["vendor"];
}

export interface GpuHolder {
  instance: string;
  gpuIndices: readonly number[];
}

export function allocateGpus(
  gpus: readonly DetectedGpu[],
  count: number,
  holders: readonly GpuHolder[],
): AllocatedGpu[] {
  if (count === 0) return [];
  const heldBy = new Map<number, string>();
  for (const holder of holders) for (const index of holder.gpuIndices) heldBy.set(index, holder.instance);
  const busy: string[] = [];
  const free: DetectedGpu[] = [];
  for (const gpu of gpus) {
    const holder = heldBy.get(gpu.index);
    if (holder !== undefined) busy.push(`GPU ${gpu.index} is used by instance ${holder}`);
    else if (!isFreeGpu(gpu)) busy.push(`GPU ${gpu.index} ${describeUse(gpu)}`);
    else free.push(gpu);
  }
  // one GPU model per engine: tensor parallel ranks must match
  const model = free[0]?.name;
  const usable = free.filter((gpu) => gpu.name === model);
  if (usable.length < count) {
    const detail = busy.length > 0 ? `; ${busy.join("; ")}` : "";
    throw new ServepilotError(
      "LAUNCH_FAILED",
      `this launch needs ${count} free GPU${count === 1 ? "" : "s"}, but ${usable.length} of the ${gpus.length} visible are free${detail}`,
      {
        hint: "stop an instance (servepilot status lists them), free the GPUs, or launch with fewer GPUs",
        details: { needed: count, free: usable.map((gpu) => gpu.index), busy },
      },
    );
  }
  return usable
    .slice(0, count)
    .map((gpu) => ({ index: gpu.index, uuid: gpu.uuid, name: gpu.name, vendor: gpu.vendor }));
}

function describeUse(gpu: DetectedGpu): string {
  if (gpu.processes.length > 0) {
    const names = gpu.processes.map((p) => `${p.name} (pid ${p.pid})`).join(", ");
    return `runs ${names}`;
  }
  return `has ${gpu.memoryUsedMiB} of ${gpu.memoryTotalMiB} MiB in use`;
}

/**
 * The environment that shows the engine only its GPUs: NVIDIA by UUID (indices in nvidia-smi order
 * need CUDA_DEVICE_ORDER=PCI_BUS_ID), AMD by index in HIP_VISIBLE_DEVICES.
 */
export function visibleDevicesEnv(gpus: readonly AllocatedGpu[]): Record<string, string> {
  if (gpus.length === 0) return {};
  if (gpus[0]?.vendor === "amd") return { HIP_VISIBLE_DEVICES: gpus.map((gpu) => gpu.index).join(",") };
  if (gpus.every((gpu) => gpu.uuid !== null))
    return { CUDA_VISIBLE_DEVICES: gpus.map((gpu) => gpu.uuid).join(",") };
  return { CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_VISIBLE_DEVICES: gpus.map((gpu) => gpu.index).join(",") };
}
