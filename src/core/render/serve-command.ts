import type { EngineName } from "../memory/types.js";

export interface ServeConfig {
  engine: EngineName;
  model: string;
  tensorParallelSize: number;
  pipelineParallelSize: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  dtype: string;
  /** Online quantization to request (checkpoint quantization is detected by the engine itself). */
  onlineQuantization: string | null;
  kvCacheDtype: string;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  blockSize: number;
  enforceEager: boolean;
  /** Engine defaults for this version: flags equal to them are left out. */
  defaults: {
    gpuMemoryUtilization: number;
    maxNumSeqs: number;
    maxNumBatchedTokens: number;
    blockSize: number;
  };
  port?: number;
}

/**
 * The engine's launch argv. Flag names and values exist in the targeted engine (vLLM `vllm serve`
 * EngineArgs, SGLang launch_server ServerArgs, llama.cpp llama-server): dtype is written as the
 * engine spells it, and values equal to the engine's default are omitted so the command stays short.
 */
export function renderServeArgv(config: ServeConfig): string[] {
  switch (config.engine) {
    case "vllm":
      return renderVllm(config);
    case "sglang":
      return renderSglang(config);
    case "llamacpp":
      return renderLlamaCpp(config);
  }
}

function renderVllm(c: ServeConfig): string[] {
  const argv = ["vllm", "serve", c.model];
  if (c.tensorParallelSize > 1) argv.push("--tensor-parallel-size", String(c.tensorParallelSize));
  if (c.pipelineParallelSize > 1) argv.push("--pipeline-parallel-size", String(c.pipelineParallelSize));
  argv.push("--max-model-len", String(c.maxModelLen));
  argv.push("--gpu-memory-utilization", String(c.gpuMemoryUtilization));
  if (c.dtype !== "auto") argv.push("--dtype", c.dtype);
  if (c.onlineQuantization) argv.push("--quantization", c.onlineQuantization);
  // a 16-bit KV cache is the default ("auto" follows the model dtype); only fp8 needs the flag
  if (c.kvCacheDtype.startsWith("fp8")) argv.push("--kv-cache-dtype", c.kvCacheDtype);
  if (c.maxNumSeqs !== c.defaults.maxNumSeqs) argv.push("--max-num-seqs", String(c.maxNumSeqs));
  if (c.maxNumBatchedTokens !== c.defaults.maxNumBatchedTokens) {
    argv.push("--max-num-batched-tokens", String(c.maxNumBatchedTokens));
  }
  if (c.blockSize !== c.defaults.blockSize) argv.push("--block-size", String(c.blockSize));
  if (c.enforceEager) argv.push("--enforce-eager");
  if (c.port !== undefined) argv.push("--port", String(c.port));
  return argv;
}

function renderSglang(c: ServeConfig): string[] {
  const argv = ["python3", "-m", "sglang.launch_server", "--model-path", c.model];
  if (c.tensorParallelSize > 1) argv.push("--tp-size", String(c.tensorParallelSize));
  if (c.pipelineParallelSize > 1) argv.push("--pp-size", String(c.pipelineParallelSize));
  argv.push("--mem-fraction-static", String(c.gpuMemoryUtilization));
  argv.push("--context-length", String(c.maxModelLen));
  if (c.dtype !== "auto") argv.push("--dtype", c.dtype);
  if (c.onlineQuantization) argv.push("--quantization", c.onlineQuantization);
  // SGLang spells fp8 KV as fp8_e4m3 / fp8_e5m2 (plain "fp8" is vLLM's alias of e4m3); 16-bit is its default
  if (c.kvCacheDtype.startsWith("fp8")) {
    argv.push("--kv-cache-dtype", c.kvCacheDtype === "fp8_e5m2" ? "fp8_e5m2" : "fp8_e4m3");
  }
  if (c.maxNumSeqs > 0 && c.maxNumSeqs !== c.defaults.maxNumSeqs)
    argv.push("--max-running-requests", String(c.maxNumSeqs));
  if (c.port !== undefined) argv.push("--port", String(c.port));
  return argv;
}

function renderLlamaCpp(c: ServeConfig): string[] {
  // a local GGUF file is passed with -m; a Hub repo with -hf (llama-server downloads the GGUF itself)
  const source = c.model.toLowerCase().endsWith(".gguf") ? ["-m", c.model] : ["-hf", c.model];
  const argv = ["llama-server", ...source, "-c", String(c.maxModelLen), "-ngl", "999"];
  argv.push("--parallel", String(Math.max(1, c.maxNumSeqs)));
  // llama.cpp cache types (common/arg.cpp kv_cache_types): f16 is the default; bf16, q8_0, q4_0 ...
  const cacheType = c.kvCacheDtype === "bfloat16" ? "bf16" : c.kvCacheDtype;
  if (!["auto", "f16", "float16"].includes(cacheType)) {
    argv.push("--cache-type-k", cacheType, "--cache-type-v", cacheType);
  }
  if (c.port !== undefined) argv.push("--port", String(c.port));
  return argv;
}
