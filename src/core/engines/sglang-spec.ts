import { z } from "zod";

/**
 * One entry of data/engines/sglang.yaml: the SGLang defaults and constants that the memory model
 * (src/core/memory/sglang.ts) reads, for one range of SGLang releases. Every block carries the link
 * to the source it was read from; formulas live in code, numbers live here.
 */

const url = z.string().url();
const slug = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "a lowercase slug (a-z, 0-9, '.', '-')");

/** An upper bound on GPU memory (GiB = nvidia-smi MiB / 1024); null = no bound (the last tier). */
const belowGiB = z.number().positive().nullable();

/** Tiers are tried in order: bounds must rise, and only the last one may be open (null). */
function checkTierOrder(tiers: ReadonlyArray<{ belowGiB: number | null }>, ctx: z.RefinementCtx): void {
  tiers.forEach((tier, i) => {
    const previous = tiers[i - 1]?.belowGiB;
    const last = i === tiers.length - 1;
    if (tier.belowGiB === null && !last) {
      ctx.addIssue({
        code: "custom",
        path: [i, "belowGiB"],
        message: "only the last tier may have belowGiB: null",
      });
    }
    if (last && tier.belowGiB !== null) {
      ctx.addIssue({
        code: "custom",
        path: [i, "belowGiB"],
        message: "the last tier must have belowGiB: null",
      });
    }
    if (tier.belowGiB !== null && previous !== undefined && previous !== null && tier.belowGiB <= previous) {
      ctx.addIssue({ code: "custom", path: [i, "belowGiB"], message: `must be greater than ${previous}` });
    }
  });
}

/**
 * SGLang 0.4.7.post1 - 0.5.2 (PR #7054): a fixed reserve per GPU-memory tier,
 * `reserved = (baseGiB + perParallelRankGiB x tp x pp) GiB`.
 */
const ReservedTiersSchema = z
  .object({
    method: z.literal("reserved-tiers"),
    tiers: z
      .array(
        z
          .object({
            belowGiB,
            baseGiB: z.number().nonnegative(),
            perParallelRankGiB: z.number().nonnegative(),
          })
          .strict(),
      )
      .min(1)
      .superRefine(checkTierOrder),
    /** Used when the GPU memory cannot be read. */
    fallback: z.number().gt(0).lt(1),
    source: url,
  })
  .strict();

/** A contiguous run of capture sizes: start, start + step, ... up to `end` (null = up to the maximum). */
const SizeSegmentSchema = z
  .object({
    start: z.number().int().positive(),
    step: z.number().int().positive(),
    end: z.number().int().positive().nullable(),
  })
  .strict();

/**
 * SGLang >= 0.5.3 (PR #10975): chunked prefill size and decode CUDA-graph max batch size by tier, then
 * `reserved MiB = base + max(chunked_prefill, minActivationTokens) x activationMiBPerToken
 *   + cuda_graph_max_bs x cudaGraphMiBPerBs + tp x pp x parallelMiBPerRank (+ prefill graphs)`,
 * floored at `floorMiB` on GPUs above `floorAboveGiB`.
 */
const ReservedFormulaSchema = z
  .object({
    method: z.literal("reserved-formula"),
    tiers: z
      .array(
        z
          .object({
            belowGiB,
            chunkedPrefillSize: z.number().int().positive(),
            cudaGraphMaxBs: z
              .object({ tpBelow4: z.number().int().positive(), tpAtLeast4: z.number().int().positive() })
              .strict(),
          })
          .strict(),
      )
      .min(1)
      .superRefine(checkTierOrder),
    baseMiB: z.number().nonnegative(),
    activationMiBPerToken: z.number().nonnegative(),
    minActivationTokens: z.number().int().nonnegative(),
    cudaGraphMiBPerBs: z.number().nonnegative(),
    parallelMiBPerRank: z.number().nonnegative(),
    floorMiB: z.number().nonnegative(),
    floorAboveGiB: z.number().positive(),
    /** Piecewise (prefill) CUDA graphs, when on by default: MiB per captured token size. */
    prefillGraphs: z
      .object({
        miBPerSize: z.number().nonnegative(),
        /** MLA models capture up to this many tokens instead of chunked_prefill_size. */
        mlaMaxTokens: z.number().int().positive(),
        sizes: z.array(SizeSegmentSchema).min(1),
        source: url,
      })
      .strict()
      .nullable(),
    fallback: z.number().gt(0).lt(1),
    source: url,
  })
  .strict();

export const SglangSpecSchema = z
  .object({
    /** Stable slug, e.g. "sglang-0.5.3". */
    id: slug,
    engine: z.literal("sglang"),
    /** The release range the entry applies to, e.g. ">=0.5.3 <0.5.9" (kept as written). */
    versions: z.string().min(1),
    source: url,
    notes: z.string().optional(),
    memFractionStatic: z.discriminatedUnion("method", [ReservedTiersSchema, ReservedFormulaSchema]),
    /**
     * Memory in use on a rank before weights load (CUDA context, torch, NCCL and custom all-reduce
     * buffers): SGLang's `total_gpu_memory` is the free memory after this, not the device total.
     */
    startupOverhead: z
      .object({
        /** TP x PP = 1. */
        singleGpu: z.object({ giB: z.number().nonnegative(), source: url }).strict(),
        /** TP x PP > 1: adds NCCL communicators and custom all-reduce buffers. */
        multiGpu: z.object({ giB: z.number().nonnegative(), source: url }).strict(),
      })
      .strict(),
    /** Bytes per KV element by --kv-cache-dtype; "auto" means the model dtype and is not listed. */
    kvCacheDtypeBytes: z.record(z.string().min(1), z.number().positive()),
    /** Default max_running_requests: clamp(int(tokens / context_len x perContext), min, max). */
    maxRunningRequests: z
      .object({
        perContext: z.number().positive(),
        min: z.number().int().positive(),
        max: z.number().int().positive(),
        source: url,
      })
      .strict(),
    /** Hybrid sliding-window pools: SWA tokens = full tokens x ratio (--swa-full-tokens-ratio). */
    hybridSwa: z.object({ swaFullTokensRatio: z.number().positive(), source: url }).strict(),
    /** Mamba / linear-attention hybrids: state memory / full-attention KV memory (--mamba-full-memory-ratio). */
    mamba: z.object({ fullMemoryRatio: z.number().nonnegative(), source: url }).strict(),
    /** Tokens are rounded down to a multiple of the page size (--page-size). */
    pageSize: z.number().int().positive(),
  })
  .strict();

export type SglangSpecInput = z.input<typeof SglangSpecSchema>;
export type SglangSpec = z.output<typeof SglangSpecSchema>;
export type SglangMemFractionRule = SglangSpec["memFractionStatic"];

export { inVersionRange, selectSglangSpec } from "./select-release.js";
