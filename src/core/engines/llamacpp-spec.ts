import { z } from "zod";

/**
 * One entry of data/engines/llamacpp.yaml: the llama.cpp (`llama-server`) defaults and constants that
 * the memory model (src/core/memory/llamacpp.ts) reads, for one range of llama.cpp builds ("bNNNN"
 * release tags). Every block carries the link to the source it was read from.
 */

const url = z.string().url();
const slug = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "a lowercase slug (a-z, 0-9, '.', '-')");
const positiveInt = z.number().int().positive();

export const LlamaCppSpecSchema = z
  .object({
    /** Stable slug, e.g. "llamacpp-b7475". */
    id: slug,
    engine: z.literal("llamacpp"),
    /** The build range the entry applies to, e.g. ">=b6981 <b7475" (kept as written). */
    versions: z.string().min(1),
    source: url,
    notes: z.string().optional(),
    /** llama_context: n_ctx and, per slot, n_ctx_seq are rounded up to a multiple of `padTo`. */
    context: z.object({ padTo: positiveInt, source: url }).strict(),
    /**
     * llama_kv_cache_iswa: the sliding-window cache holds
     * pad(min(n_ctx_seq, n_swa x (unified ? n_seq : 1) + n_ubatch), padTo) cells per stream.
     */
    swaCache: z.object({ padTo: positiveInt, source: url }).strict(),
    offload: z
      .object({
        /** -ngl N puts the output layer on the GPU first, then N - 1 repeating layers (else N layers). */
        outputLayerFirst: z.boolean(),
        source: url,
      })
      .strict(),
    defaults: z
      .object({
        nBatch: positiveInt,
        nUbatch: positiveInt,
        cacheTypeK: z.string().min(1),
        cacheTypeV: z.string().min(1),
        source: url,
      })
      .strict(),
    /** --cache-type-k / --cache-type-v values the build accepts (ggml type names, lower case). */
    cacheTypes: z.array(z.string().min(1)).min(1),
    /** The server's automatic slot setting: `slots` slots sharing one unified KV cache. */
    autoParallel: z
      .object({
        /** "parallel-1": applied when --parallel is 1 and --kv-unified is off; "parallel-auto": only for -np -1. */
        trigger: z.enum(["parallel-1", "parallel-auto"]),
        slots: positiveInt,
        source: url,
      })
      .strict(),
    /** Device memory in use before llama.cpp allocates anything (CUDA context, driver). */
    deviceOverhead: z.object({ miB: z.number().nonnegative(), source: url }).strict(),
    /** --fit keeps this much free per device; used only to warn. */
    fitMargin: z.object({ miB: z.number().nonnegative(), source: url }).strict(),
  })
  .strict();

export type LlamaCppSpecInput = z.input<typeof LlamaCppSpecSchema>;
export type LlamaCppSpec = z.output<typeof LlamaCppSpecSchema>;

export { parseLlamaCppBuild, selectLlamaCppSpec } from "./select-release.js";
