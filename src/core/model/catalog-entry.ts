import { z } from "zod";

/**
 * One model catalog entry, as written in data/models/*.yaml (built-in) or in the user's
 * `<data-dir>/models/*.yaml` (merged over the built-ins by `id`).
 *
 * `config` is a verbatim subset of the model's Hugging Face config.json (same keys, same nesting,
 * e.g. `text_config` for Gemma 3 / Llama 4 / VL models, `quantization_config` for quantized
 * checkpoints), so catalog models go through exactly the same parser as downloaded ones.
 */
export const ModelCatalogEntrySchema = z
  .object({
    /** Hugging Face repo id, e.g. "meta-llama/Llama-3.1-8B-Instruct". */
    id: z.string().regex(/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/, "a Hugging Face repo id (owner/name)"),
    /** Family for grouping and filtering: "llama-3.1", "qwen3", "deepseek-v3", ... */
    family: z.string().min(1),
    /** Short names users type ("llama3.1-8b", "qwen3-8b"). */
    aliases: z.array(z.string().min(1)).default([]),
    /** Officially published total parameter count (model card or the Hub's safetensors count). */
    publishedParams: z.number().positive().nullable(),
    /** Officially published active parameters per token (MoE models), when published. */
    publishedActiveParams: z.number().positive().nullable().default(null),
    /** Link to where publishedParams is stated. */
    paramsSource: z.string().url().nullable(),
    /** Link to the config.json the `config` block is copied from. */
    source: z.string().url(),
    /** Whether the Hub repo is gated (needs an accepted license + HF_TOKEN). */
    gated: z.boolean().default(false),
    license: z.string().optional(),
    /** Free-form notes (what the published count includes, e.g. "excludes the 14B MTP module"). */
    notes: z.string().optional(),
    config: z.record(z.string(), z.unknown()),
  })
  .strict();

export type ModelCatalogEntryInput = z.input<typeof ModelCatalogEntrySchema>;
export type ModelCatalogEntry = z.output<typeof ModelCatalogEntrySchema>;
