import { z } from "zod";

const positiveInt = z.number().int().positive();

/**
 * A saved planning request (seed: vLLM Wizard's YAML profiles). Unknown keys are refused, so a typo
 * never silently drops a setting. Command-line flags override profile values.
 */
export const ProfileSchema = z
  .object({
    profileVersion: z.literal(1),
    model: z
      .object({
        id: z.string().min(1),
        revision: z.string().min(1).optional(),
        dtype: z.string().optional(),
        quantization: z.string().optional(),
        kvCacheDtype: z.string().optional(),
        maxModelLen: positiveInt.optional(),
      })
      .strict(),
    hardware: z
      .object({
        gpu: z.string().min(1).optional(),
        gpus: positiveInt.optional(),
        gpuMemory: z.string().optional(),
        nodes: positiveInt.optional(),
        gpusPerNode: positiveInt.optional(),
        tensorParallelSize: positiveInt.optional(),
        pipelineParallelSize: positiveInt.optional(),
      })
      .strict()
      .default({}),
    engine: z
      .object({
        name: z.enum(["vllm", "sglang", "llamacpp"]).optional(),
        version: z.string().optional(),
        gpuMemoryUtilization: z.number().gt(0).lte(1).optional(),
        maxNumSeqs: positiveInt.optional(),
        maxNumBatchedTokens: positiveInt.optional(),
        blockSize: positiveInt.optional(),
        enforceEager: z.boolean().optional(),
      })
      .strict()
      .default({}),
    workload: z
      .object({
        promptTokens: positiveInt.optional(),
        genTokens: positiveInt.optional(),
        concurrency: positiveInt.optional(),
        batchingMode: z.enum(["latency", "throughput", "balanced"]).optional(),
      })
      .strict()
      .default({}),
    policy: z
      .object({
        headroomGb: z.number().positive().optional(),
        overheadGb: z.number().positive().optional(),
        interconnect: z.enum(["pcie", "nvlink", "unknown"]).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Profile = z.output<typeof ProfileSchema>;
