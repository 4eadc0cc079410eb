import { ServepilotError } from "../core/errors.js";
import { newestRelease } from "../core/plan/build-plan.js";
import { type FitRow, fitAcrossCatalog } from "../core/plan/fit.js";
import { loadEngineCatalog } from "./catalog/engine-catalog.js";
import { loadGpuCatalog } from "./catalog/gpu-catalog.js";
import { loadModel } from "./load-model.js";

export interface FitRequest {
  model: string;
  maxModelLen?: number;
  concurrency?: number;
  maxGpus?: number;
  engineVersion?: string;
  vendor?: string;
  offline?: boolean;
}

export interface FitResult {
  model: { id: string; params: { total: number; active: number } };
  engine: { name: "vllm"; version: string };
  maxModelLen: number | null;
  concurrency: number;
  /** Catalog GPUs x precisions checked. */
  checked: number;
  options: FitRow[];
}

/** `servepilot fit`: every catalog GPU and precision that serves the model, ranked. */
export async function fit(
  request: FitRequest,
  options: { dataDir?: string | null; env?: NodeJS.ProcessEnv } = {},
): Promise<FitResult> {
  if (request.vendor !== undefined && request.vendor !== "nvidia" && request.vendor !== "amd") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--vendor must be "nvidia" or "amd", got ${JSON.stringify(request.vendor)}`,
    );
  }
  const [gpus, engines, loaded] = await Promise.all([
    loadGpuCatalog({ dataDir: options.dataDir ?? null }),
    loadEngineCatalog({ dataDir: options.dataDir ?? null }),
    loadModel(request.model, {
      dataDir: options.dataDir ?? null,
      ...(options.env ? { env: options.env } : {}),
      ...(request.offline ? { offline: true } : {}),
    }),
  ]);
  const version = request.engineVersion ?? newestRelease(engines.vllm);
  const candidates = gpus.filter((gpu) => !request.vendor || gpu.vendor === request.vendor);
  const arch = loaded.description.architecture;
  const rows = fitAcrossCatalog({
    arch,
    gpus: candidates,
    vllmSpecs: engines.vllm,
    engineVersion: version,
    ...(request.maxModelLen !== undefined ? { maxModelLen: request.maxModelLen } : {}),
    ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
    ...(request.maxGpus !== undefined ? { maxGpus: request.maxGpus } : {}),
  });
  return {
    model: {
      id: loaded.id,
      params: { total: loaded.description.params.total, active: loaded.description.params.active },
    },
    engine: { name: "vllm", version },
    maxModelLen: request.maxModelLen ?? arch.maxContext,
    concurrency: request.concurrency ?? 1,
    checked: candidates.reduce((n, gpu) => n + (gpu.fp8 && !arch.quantization ? 3 : 1), 0),
    options: rows,
  };
}
