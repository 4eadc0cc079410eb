import type { Deployment } from "../../../src/core/render/deployment.js";

/** A model id a shell, Compose or Kubernetes would rewrite if the renderers quoted it wrong. */
export const HOSTILE_MODEL = `my "model" $HOME's $(HF_TOKEN) \`id\` \${USER}`;

/** An environment value with a Kubernetes and a Compose variable reference in it. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a variable reference on purpose
export const HOSTILE_NOTE = "a $(HF_TOKEN) b ${HOME}";

function deployment(overrides: Partial<Deployment>): Deployment {
  return {
    name: "qwen3-8b",
    modelId: "Qwen/Qwen3-8B",
    engine: "vllm",
    engineVersion: "0.11.0",
    vendor: "nvidia",
    image: "vllm/vllm-openai:v0.11.0",
    serveArgv: [
      "vllm",
      "serve",
      "Qwen/Qwen3-8B",
      "--max-model-len",
      "8192",
      "--gpu-memory-utilization",
      "0.9",
    ],
    port: 8000,
    gpusPerReplica: 1,
    deviceIds: ["0"],
    nodes: 1,
    gpusPerNode: 1,
    tensorParallelSize: 1,
    pipelineParallelSize: 1,
    shmSize: "8g",
    hfCacheHostPath: "/data/hf-cache",
    cacheSize: "30Gi",
    gpuProductLabel: "NVIDIA-H100-80GB-HBM3",
    startupSeconds: 600,
    env: {},
    ...overrides,
  };
}

export const nvidiaOneGpu = deployment({});

export const nvidiaTp8 = deployment({
  name: "llama-3-1-70b-instruct",
  modelId: "meta-llama/Llama-3.1-70B-Instruct",
  serveArgv: [
    "vllm",
    "serve",
    "meta-llama/Llama-3.1-70B-Instruct",
    "--tensor-parallel-size",
    "8",
    "--max-model-len",
    "32768",
    "--gpu-memory-utilization",
    "0.92",
    "--kv-cache-dtype",
    "fp8",
    "--port",
    "8000",
  ],
  gpusPerReplica: 8,
  deviceIds: ["0", "1", "2", "3", "4", "5", "6", "7"],
  gpusPerNode: 8,
  tensorParallelSize: 8,
  shmSize: "16g",
  cacheSize: "190Gi",
  startupSeconds: 1200,
});

export const amdMi300x = deployment({
  name: "llama-3-1-70b-instruct",
  modelId: "meta-llama/Llama-3.1-70B-Instruct",
  vendor: "amd",
  image: "rocm/vllm:rocm6.4.1_vllm_0.10.1",
  engineVersion: "0.10.1",
  serveArgv: [
    "vllm",
    "serve",
    "meta-llama/Llama-3.1-70B-Instruct",
    "--tensor-parallel-size",
    "8",
    "--max-model-len",
    "131072",
  ],
  gpusPerReplica: 8,
  deviceIds: ["0", "1", "2", "3", "4", "5", "6", "7"],
  gpusPerNode: 8,
  tensorParallelSize: 8,
  shmSize: "16g",
  cacheSize: "190Gi",
  gpuProductLabel: "AMD_Instinct_MI300X_OAM",
  env: { VLLM_ROCM_USE_AITER: "1" },
});

export const multiNode2x8 = deployment({
  name: "deepseek-v3",
  modelId: "deepseek-ai/DeepSeek-V3",
  serveArgv: [
    "vllm",
    "serve",
    "deepseek-ai/DeepSeek-V3",
    "--tensor-parallel-size",
    "8",
    "--pipeline-parallel-size",
    "2",
    "--max-model-len",
    "16384",
    "--port",
    "8000",
  ],
  gpusPerReplica: 8,
  deviceIds: ["0", "1", "2", "3", "4", "5", "6", "7"],
  nodes: 2,
  gpusPerNode: 8,
  tensorParallelSize: 8,
  pipelineParallelSize: 2,
  shmSize: "32g",
  cacheSize: "900Gi",
  startupSeconds: 3600,
});

export const sglangTp2 = deployment({
  engine: "sglang",
  engineVersion: "0.5.3",
  image: "lmsysorg/sglang:v0.5.3-cu126",
  serveArgv: [
    "python3",
    "-m",
    "sglang.launch_server",
    "--model-path",
    "Qwen/Qwen3-8B",
    "--tp-size",
    "2",
    "--mem-fraction-static",
    "0.88",
    "--context-length",
    "8192",
  ],
  port: 30000,
  gpusPerReplica: 2,
  deviceIds: ["2", "3"],
  gpusPerNode: 2,
  tensorParallelSize: 2,
});

export const llamaCppLocalGguf = deployment({
  name: "qwen3-8b-q4-k-m",
  modelId: "/models/Qwen3-8B-Q4_K_M.gguf",
  engine: "llamacpp",
  engineVersion: "b6700",
  image: "ghcr.io/ggml-org/llama.cpp:server-cuda-b6700",
  serveArgv: [
    "llama-server",
    "-m",
    "/models/Qwen3-8B-Q4_K_M.gguf",
    "-c",
    "8192",
    "-ngl",
    "999",
    "--parallel",
    "4",
  ],
  port: 8080,
  gpuProductLabel: null,
});

export const hostileName = deployment({
  name: "my-model",
  modelId: HOSTILE_MODEL,
  serveArgv: ["vllm", "serve", HOSTILE_MODEL, "--served-model-name", "it's $HOME", "--max-model-len", "4096"],
  env: { EXTRA_NOTE: HOSTILE_NOTE },
});

/** A model already in the HF cache, given by its local snapshot path. */
export const cachedSnapshot = deployment({
  serveArgv: [
    "vllm",
    "serve",
    "/data/hf-cache/hub/models--Qwen--Qwen3-8B/snapshots/abc123",
    "--max-model-len",
    "8192",
  ],
});

/** An image servepilot knows nothing about: the renderers set the entrypoint themselves. */
export const customImage = deployment({ image: "registry.example.com:5000/team/vllm-custom:2025-06" });

export const SINGLE_NODE_CASES: Record<string, Deployment> = {
  nvidiaOneGpu,
  nvidiaTp8,
  amdMi300x,
  sglangTp2,
  llamaCppLocalGguf,
  hostileName,
  cachedSnapshot,
  customImage,
};
