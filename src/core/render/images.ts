import type { EngineName } from "../memory/types.js";

/**
 * Container images, pinned to the engine release planned. Tag patterns as each project publishes them:
 * vLLM https://hub.docker.com/r/vllm/vllm-openai/tags (v0.11.0), ROCm vLLM
 * https://hub.docker.com/r/rocm/vllm/tags (rocm/vllm:rocm<ROCm>_vllm_<release>), SGLang
 * https://hub.docker.com/r/lmsysorg/sglang/tags (v0.5.3-cu126, v0.5.3-rocm630), llama.cpp
 * https://github.com/ggml-org/llama.cpp/pkgs/container/llama.cpp (server-cuda-b7475, server-rocm-b7475).
 */
export function engineImage(engine: EngineName, version: string, vendor: "nvidia" | "amd"): string {
  const release = version.replace(/^v/, "");
  switch (engine) {
    case "vllm":
      return vendor === "amd" ? `rocm/vllm:rocm6.4.1_vllm_${release}` : `vllm/vllm-openai:v${release}`;
    case "sglang":
      return `lmsysorg/sglang:v${release}-${vendor === "amd" ? "rocm630" : "cu126"}`;
    case "llamacpp":
      return `ghcr.io/ggml-org/llama.cpp:server-${vendor === "amd" ? "rocm" : "cuda"}-${release.startsWith("b") ? release : `b${release}`}`;
  }
}
