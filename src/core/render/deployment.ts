import type { EngineName } from "../memory/types.js";

/**
 * Everything the deployment renderers need, derived from a Plan (see build-deployment.ts). Renderers
 * are pure: (Deployment) -> text. `serveArgv` is the engine's argv (argv[0] the program); renderers put
 * it in their own form (docker command array, compose `command`, Kubernetes `args`) and quote it for
 * shells where they produce shell text.
 */
export interface Deployment {
  /** A DNS-1123 name derived from the model id ("qwen3-8b"), for containers, services and objects. */
  name: string;
  modelId: string;
  engine: EngineName;
  engineVersion: string;
  vendor: "nvidia" | "amd";
  /** Container image pinned to the engine release (e.g. vllm/vllm-openai:v0.11.0). */
  image: string;
  /** The engine's launch argv, program first (["vllm", "serve", "Qwen/Qwen3-8B", "--max-model-len", "8192"]). */
  serveArgv: string[];
  /** Port the engine listens on inside the container / on the host. */
  port: number;
  /** GPUs per replica (tensor x pipeline parallel within one node for single-node). */
  gpusPerReplica: number;
  /** Device ids for docker --gpus / compose reservations (single node). */
  deviceIds: string[];
  /** Nodes when TP x PP exceeds one node (multi-node via Ray / LeaderWorkerSet), else 1. */
  nodes: number;
  gpusPerNode: number;
  tensorParallelSize: number;
  pipelineParallelSize: number;
  /** Shared memory for the container (engines use /dev/shm for NCCL / RCCL): e.g. "16g". */
  shmSize: string;
  /** Hugging Face cache on the host (docker) mounted at /root/.cache/huggingface. */
  hfCacheHostPath: string;
  /** Model cache PVC size for Kubernetes, e.g. "200Gi" (from the checkpoint size plus headroom). */
  cacheSize: string;
  /** GPU product label value for node selection (nvidia.com/gpu.product, e.g. "NVIDIA-H100-80GB-HBM3"). */
  gpuProductLabel: string | null;
  /** Seconds a cold start may take (weights download + load + graph capture), for startup probes. */
  startupSeconds: number;
  /** Extra environment for the engine (ROCm variables etc.); secrets are never values here. */
  env: Record<string, string>;
}
