import { ServepilotError } from "../errors.js";
import type { Architecture } from "../model/architecture.js";
import type { UserEngineSettings } from "./types.js";

function fail(message: string, hint?: string): never {
  throw new ServepilotError("INVALID_ARGUMENT", message, hint ? { hint } : {});
}

/** Tensor-parallel sizes vLLM accepts for this model: they divide the attention heads, and the KV heads divide them or they divide the KV heads. */
export function validTensorParallelSizes(arch: Architecture, maxSize: number): number[] {
  const heads = arch.attention.numHeads;
  const kv = arch.attention.mla ? heads : arch.attention.numKvHeads;
  const sizes: number[] = [];
  for (let tp = 1; tp <= maxSize; tp++) {
    if (heads % tp !== 0) continue;
    if (kv >= tp ? kv % tp !== 0 : tp % kv !== 0) continue;
    sizes.push(tp);
  }
  return sizes;
}

/**
 * Refuses contradictory or impossible settings before planning (vllm/config/parallel.py and
 * model.py verify_with_parallel_config raise the same conditions at startup).
 */
export function validateSettings(arch: Architecture, user: UserEngineSettings, gpuCount: number): void {
  const positive = (value: number | undefined, flag: string) => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      fail(`${flag} must be a positive integer, got ${value}`);
  };
  positive(user.tensorParallelSize, "--tensor-parallel-size");
  positive(user.pipelineParallelSize, "--pipeline-parallel-size");
  positive(user.maxModelLen, "--max-model-len");
  positive(user.maxNumSeqs, "--max-num-seqs");
  positive(user.maxNumBatchedTokens, "--max-num-batched-tokens");
  positive(user.blockSize, "--block-size");
  const util = user.gpuMemoryUtilization;
  if (util !== undefined && !(util > 0 && util <= 1)) {
    fail(`--gpu-memory-utilization must be in (0, 1], got ${util}`);
  }
  const tp = user.tensorParallelSize ?? 1;
  const pp = user.pipelineParallelSize ?? 1;
  if (tp * pp > gpuCount) {
    fail(
      `--tensor-parallel-size ${tp} x --pipeline-parallel-size ${pp} needs ${tp * pp} GPUs, but ${gpuCount} ${gpuCount === 1 ? "is" : "are"} given`,
      "raise --gpus (or --nodes / --gpus-per-node), or lower the parallel sizes",
    );
  }
  if (user.tensorParallelSize !== undefined) {
    const valid = validTensorParallelSizes(arch, Math.max(tp, 64));
    if (!valid.includes(tp)) {
      fail(
        `--tensor-parallel-size ${tp} does not divide the model's ${arch.attention.numHeads} attention heads (${arch.attention.numKvHeads} KV heads); valid sizes: ${valid.filter((v) => v <= Math.max(8, gpuCount)).join(", ")}`,
      );
    }
  }
  if (pp > arch.numLayers)
    fail(`--pipeline-parallel-size ${pp} exceeds the model's ${arch.numLayers} layers`);
}
