import { z } from "zod";

/**
 * What changed between vLLM releases in how it sizes memory (data/engines/vllm.yaml). An entry
 * applies from its `from` release until the next entry's. Facts and sources:
 * docs/reference/vllm-memory-accounting.md.
 */
export const VllmSpecSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
    engine: z.literal("vllm"),
    /** First release this entry describes, e.g. "0.9.1". */
    from: z.string().regex(/^\d+\.\d+\.\d+$/),
    /** The newest release known to behave like this entry (documentation only). */
    through: z.string().optional(),
    defaultGpuMemoryUtilization: z.number().gt(0).lte(1),
    /** Which GPUs get the large scheduler defaults. */
    largeGpuRule: z.enum(["all", "h100-h200-name", "memory-70gib", "memory-70gib-except-a100"]),
    maxNumSeqs: z.object({ large: z.number().int().positive(), small: z.number().int().positive() }),
    /** `vllm serve` (API server) defaults; the offline LLM class uses other values. */
    maxNumBatchedTokens: z.object({ large: z.number().int().positive(), small: z.number().int().positive() }),
    /**
     * "absolute-peak": v0.7-v0.9.0, KV = total x util - (torch peak incl. weights + all non-torch
     * memory incl. the CUDA context). "profiled": KV = requested - (weights + peak increase +
     * non-torch increase).
     */
    kvBudget: z.enum(["absolute-peak", "profiled"]),
    /** Whether the CUDA-graph memory estimate is subtracted from the KV budget by default. */
    cudaGraphInBudget: z.boolean(),
    /** How "GPU KV cache size: N tokens" is computed. */
    tokensFormula: z.enum(["blocks-x-block-size", "blocks-per-group-x-block-size", "concurrency-x-len"]),
    /** How "Maximum concurrency" is computed. */
    concurrencyFormula: z.enum(["tokens-over-len", "blocks-over-request-blocks"]),
    /** Bytes of sampler working set per (row x vocab) in the profiling run (calibrated). */
    samplerBytesPerRowVocab: z.number().positive(),
    /** Non-torch memory growth per rank in GiB: single GPU and with TP > 1 (NCCL, custom all-reduce). */
    nonTorchGiB: z.object({ tp1: z.number().nonnegative(), tpN: z.number().nonnegative() }),
    /** CUDA context and other memory outside torch charged to the budget (absolute-peak versions). */
    cudaContextGiB: z.number().nonnegative(),
    /** Block size forced by MLA backends: Hopper (FlashMLA) and Blackwell (CUTLASS MLA); null = 16. */
    mlaBlockSize: z.object({
      hopper: z.number().int().positive().nullable(),
      blackwell: z.number().int().positive().nullable(),
    }),
    source: z.string().url(),
    notes: z.string().optional(),
  })
  .strict();

export type VllmSpec = z.output<typeof VllmSpecSchema>;
