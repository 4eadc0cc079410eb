import type { GpuSpec } from "../gpu/gpu-spec.js";
import type { Plan } from "../plan/types.js";
import type { Deployment } from "./deployment.js";
import { engineImage } from "./images.js";

export interface DeploymentOptions {
  port?: number;
  /** Host path of the Hugging Face cache for docker (default ~/.cache/huggingface). */
  hfCacheHostPath?: string;
  /** First GPU index to use on the host (docker --gpus device=...). */
  firstDevice?: number;
}

/** A DNS-1123 label from a model id: "Qwen/Qwen3-8B" -> "qwen3-8b" (63 characters at most). */
export function deploymentName(modelId: string): string {
  const base = modelId.split("/").pop() ?? modelId;
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return slug || "model";
}

/**
 * Seconds an engine may take from start to ready for `totalWeightsGiB` of weights (all GPUs): loading at
 * ~0.5 GiB/s worst case plus compilation and CUDA-graph capture, at least 10 minutes. A download, when
 * the model is not cached yet, is on top (the launcher's --timeout covers it).
 */
export function coldStartSeconds(totalWeightsGiB: number): number {
  return Math.max(600, Math.ceil(totalWeightsGiB * 2 + 300));
}

/**
 * The GPU product label the NVIDIA GPU feature discovery puts on nodes: the nvidia-smi name with
 * spaces as dashes ("NVIDIA H100 80GB HBM3" -> "NVIDIA-H100-80GB-HBM3").
 */
function productLabel(gpu: GpuSpec): string | null {
  if (gpu.vendor !== "nvidia") return null;
  const smiName = gpu.aliases.find((alias) => /^(NVIDIA|Tesla) /.test(alias));
  return smiName ? smiName.replace(/\s+/g, "-") : null;
}

/** Everything the deployment renderers need, from a plan and the GPU it was made for. */
export function buildDeployment(plan: Plan, gpu: GpuSpec, options: DeploymentOptions = {}): Deployment {
  const cfg = plan.config;
  const perReplica = cfg.tensorParallelSize * cfg.pipelineParallelSize;
  const gpusPerNode = plan.hardware.gpusPerNode;
  const nodes = perReplica > gpusPerNode ? Math.ceil(perReplica / gpusPerNode) : 1;
  const first = options.firstDevice ?? 0;
  const onNode = Math.min(perReplica, gpusPerNode);
  const weightsGiB = plan.memory.perGpu.weightsGiB * perReplica;
  const port = options.port ?? 8000;
  const serveArgv = [...plan.artifacts.serveArgv];
  if (!serveArgv.includes("--port") && plan.config.engine !== "llamacpp")
    serveArgv.push("--port", String(port));
  if (plan.config.engine === "llamacpp" && !serveArgv.includes("--port"))
    serveArgv.push("--host", "0.0.0.0", "--port", String(port));
  if (plan.config.engine === "sglang" && !serveArgv.includes("--host")) serveArgv.push("--host", "0.0.0.0");
  return {
    name: deploymentName(plan.model.id),
    modelId: plan.model.id,
    engine: cfg.engine,
    engineVersion: cfg.engineVersion,
    vendor: gpu.vendor,
    image: engineImage(cfg.engine, cfg.engineVersion, gpu.vendor),
    serveArgv,
    port,
    gpusPerReplica: onNode,
    deviceIds: Array.from({ length: onNode }, (_, i) => String(first + i)),
    nodes,
    gpusPerNode: onNode,
    tensorParallelSize: cfg.tensorParallelSize,
    pipelineParallelSize: cfg.pipelineParallelSize,
    shmSize: perReplica > 1 ? "16g" : "8g",
    hfCacheHostPath: options.hfCacheHostPath ?? "~/.cache/huggingface",
    // the checkpoint once, plus room for a second revision or tokenizer files
    cacheSize: `${Math.max(20, Math.ceil((weightsGiB * 1.3) / 10) * 10)}Gi`,
    gpuProductLabel: productLabel(gpu),
    startupSeconds: coldStartSeconds(weightsGiB),
    env:
      gpu.vendor === "amd"
        ? { HIP_VISIBLE_DEVICES: Array.from({ length: onNode }, (_, i) => String(first + i)).join(",") }
        : {},
  };
}
