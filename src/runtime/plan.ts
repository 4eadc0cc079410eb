import { ServepilotError } from "../core/errors.js";
import type { GpuCatalogEntry, GpuSpec } from "../core/gpu/gpu-spec.js";
import { matchDetectedGpu, matchGpu } from "../core/gpu/match-gpu.js";
import { customGpuFromMemory, parseMemorySize } from "../core/gpu/memory-size.js";
import type { EngineName } from "../core/memory/types.js";
import { buildPlan } from "../core/plan/build-plan.js";
import { normalizeDtype, normalizeKvCacheDtype, normalizeQuantization } from "../core/plan/spellings.js";
import type { BatchingMode, Plan, UserEngineSettings } from "../core/plan/types.js";
import { loadEngineCatalog } from "./catalog/engine-catalog.js";
import { loadGpuCatalog } from "./catalog/gpu-catalog.js";
import { loadModel } from "./load-model.js";

/** What a user asks the planner (CLI flags, a profile, or a library call). Everything but `model` is optional. */
export interface PlanRequest {
  model: string;
  revision?: string;
  /** Catalog name or device name ("H100", "NVIDIA A100-SXM4-80GB"); omitted = detect the GPUs here. */
  gpu?: string;
  /** Number of GPUs (all nodes). */
  gpus?: number;
  /** Memory per GPU with a unit ("48GB", "79.19GiB"): a custom GPU, or overrides the named GPU's. */
  gpuMemory?: string;
  /** Seed spelling: memory per GPU in GB. */
  vramGb?: number;
  nodes?: number;
  gpusPerNode?: number;
  engine?: EngineName;
  engineVersion?: string;
  tensorParallelSize?: number;
  pipelineParallelSize?: number;
  maxModelLen?: number;
  gpuMemoryUtilization?: number;
  dtype?: string;
  quantization?: string;
  kvCacheDtype?: string;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  blockSize?: number;
  enforceEager?: boolean;
  promptTokens?: number;
  genTokens?: number;
  concurrency?: number;
  batchingMode?: BatchingMode;
  /** GB (10^9 bytes) per GPU to leave unused: lowers the default utilization. */
  headroomGb?: number;
  /** GB per GPU reserved for other uses inside the engine's budget (taken from the KV cache). */
  overheadGb?: number;
  /** "pcie" when GPUs talk over PCIe only (no NVLink / Infinity Fabric bridge). */
  interconnect?: "pcie" | "nvlink" | "unknown";
  /** The parameter count the user expects, in billions (checked against the config). */
  paramsB?: number;
  offline?: boolean;
}

export interface PlanOptions {
  dataDir?: string | null;
  env?: NodeJS.ProcessEnv;
}

interface ResolvedHardware {
  gpu: GpuSpec;
  count: number;
  totalGiB: number | null;
  freeBytes: number | null;
  detected: boolean;
}

async function resolveHardware(
  request: PlanRequest,
  catalog: GpuCatalogEntry[],
  env: NodeJS.ProcessEnv | undefined,
): Promise<ResolvedHardware> {
  const memoryText = request.gpuMemory ?? (request.vramGb !== undefined ? `${request.vramGb}GB` : undefined);
  const flag = request.gpuMemory !== undefined ? "--gpu-memory" : "--vram-gb";
  const memory = memoryText !== undefined ? parseMemorySize(memoryText, flag) : null;
  const nodesCount =
    request.nodes !== undefined && request.gpusPerNode !== undefined
      ? request.nodes * request.gpusPerNode
      : undefined;
  const count = request.gpus ?? nodesCount;
  if (request.gpu) {
    const { entry } = matchGpu(request.gpu, catalog);
    return { gpu: entry, count: count ?? 1, totalGiB: memory?.gib ?? null, freeBytes: null, detected: false };
  }
  if (memory) {
    return {
      gpu: customGpuFromMemory(memory),
      count: count ?? 1,
      totalGiB: memory.gib,
      freeBytes: null,
      detected: false,
    };
  }
  // detection (and execa) is loaded only when no GPU is named
  const { detectGpus } = await import("./hardware/index.js");
  const detection = await detectGpus(env ? { env } : {});
  const first = detection.gpus[0];
  if (!first) {
    throw new ServepilotError("GPU_DETECTION_FAILED", "no GPU given and none detected on this machine", {
      hint: "name one with --gpu (e.g. --gpu H100 --gpus 2) or give its memory with --gpu-memory 48GB",
      details: { tools: detection.tools },
    });
  }
  const match = matchDetectedGpu(first.name, first.memoryTotalMiB, catalog);
  const gpu = match?.entry ?? customGpuFromMemory(`${first.memoryTotalMiB ?? 0}MiB`, first.vendor);
  const freeMiB = Math.min(...detection.gpus.map((g) => g.memoryFreeMiB ?? Number.POSITIVE_INFINITY));
  return {
    gpu,
    count: count ?? detection.gpus.length,
    totalGiB: null,
    freeBytes: Number.isFinite(freeMiB) ? freeMiB * 2 ** 20 : null,
    detected: true,
  };
}

/** Plans a deployment: finds the model and the GPUs, then runs the engine's memory model and the advice around it. */
export async function plan(request: PlanRequest, options: PlanOptions = {}): Promise<Plan> {
  const engine = request.engine ?? "vllm";
  const [gpuCatalog, engines, loaded] = await Promise.all([
    loadGpuCatalog({ dataDir: options.dataDir ?? null }),
    loadEngineCatalog({ dataDir: options.dataDir ?? null }),
    loadModel(request.model, {
      dataDir: options.dataDir ?? null,
      ...(options.env ? { env: options.env } : {}),
      ...(request.revision ? { revision: request.revision } : {}),
      ...(request.offline ? { offline: true } : {}),
    }),
  ]);
  const hardware = await resolveHardware(request, gpuCatalog, options.env);
  const arch = loaded.description.architecture;
  const user: UserEngineSettings = {
    ...(request.tensorParallelSize !== undefined ? { tensorParallelSize: request.tensorParallelSize } : {}),
    ...(request.pipelineParallelSize !== undefined
      ? { pipelineParallelSize: request.pipelineParallelSize }
      : {}),
    ...(request.maxModelLen !== undefined ? { maxModelLen: request.maxModelLen } : {}),
    ...(request.gpuMemoryUtilization !== undefined
      ? { gpuMemoryUtilization: request.gpuMemoryUtilization }
      : {}),
    ...(request.dtype !== undefined ? { dtype: normalizeDtype(request.dtype) } : {}),
    ...(request.quantization !== undefined
      ? {
          quantization: normalizeQuantization(
            request.quantization,
            arch.quantization?.method ?? null,
            loaded.id,
          ),
        }
      : {}),
    ...(request.kvCacheDtype !== undefined
      ? { kvCacheDtype: normalizeKvCacheDtype(request.kvCacheDtype) }
      : {}),
    ...(request.maxNumSeqs !== undefined ? { maxNumSeqs: request.maxNumSeqs } : {}),
    ...(request.maxNumBatchedTokens !== undefined
      ? { maxNumBatchedTokens: request.maxNumBatchedTokens }
      : {}),
    ...(request.blockSize !== undefined ? { blockSize: request.blockSize } : {}),
    ...(request.enforceEager !== undefined ? { enforceEager: request.enforceEager } : {}),
  };
  if (user.quantization === "fp8" && !arch.quantization && !hardware.gpu.fp8) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--quantization fp8: ${hardware.gpu.name} has no FP8 support (needs compute capability 8.9+ or an MI300-series GPU)`,
    );
  }
  if (request.headroomGb !== undefined) {
    if (request.gpuMemoryUtilization !== undefined) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        "give either --gpu-memory-utilization or --headroom-gb, not both",
      );
    }
    const total = (hardware.totalGiB ?? hardware.gpu.memory.runtimeGiB) * 2 ** 30;
    const util = Math.floor(((total - request.headroomGb * 1e9) / total) * 100) / 100;
    if (!(util > 0)) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `--headroom-gb ${request.headroomGb} leaves no memory on a ${hardware.gpu.name}`,
      );
    }
    user.gpuMemoryUtilization = util;
  }
  if (request.overheadGb !== undefined) user.reservedBytes = request.overheadGb * 1e9;
  if (request.interconnect === "pcie") {
    // PCIe 4.0 x16: 32 GB/s each way; without a bridge, all-reduces cross PCIe (and often the CPU)
    hardware.gpu = { ...hardware.gpu, interconnect: { type: "pcie", bandwidthGBs: 64 } };
  }
  const gpusPerNode = request.gpusPerNode ?? hardware.count;
  const planned = buildPlan({
    modelId: loaded.origin.kind === "local" ? loaded.origin.location : loaded.id,
    model: loaded.description,
    gpu: hardware.gpu,
    gpuCount: hardware.count,
    nodes: request.nodes ?? Math.max(1, Math.ceil(hardware.count / gpusPerNode)),
    gpusPerNode,
    totalGiB: hardware.totalGiB,
    freeBytes: hardware.freeBytes,
    engine,
    engineVersion: request.engineVersion ?? null,
    engineSpecs: engines,
    efficiency: engines.efficiency,
    ...(loaded.ggufTensors ? { ggufTensors: loaded.ggufTensors } : {}),
    user,
    workload: {
      promptTokens: request.promptTokens ?? 1024,
      genTokens: request.genTokens ?? 256,
      concurrency: request.concurrency ?? 1,
      batchingMode: request.batchingMode ?? "balanced",
    },
  });
  if (request.paramsB !== undefined) {
    const counted = loaded.description.params.total / 1e9;
    if (Math.abs(counted - request.paramsB) / counted > 0.05) {
      planned.warnings.push(
        `--params-b ${request.paramsB}: the model's config counts ${counted.toFixed(2)}B parameters; the plan uses the config's count`,
      );
    }
  }
  return planned;
}
