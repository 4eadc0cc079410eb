import { z } from "zod";

/**
 * A recipe: a curated, launchable configuration for one model on one kind of GPU (seed: AIM Engine
 * recipes, vLLM Studio's Recipe model). Engine settings use the planner's names, so a recipe is
 * planned (and verified) with the same code as a `servepilot plan` request. Unknown keys are refused.
 */

const positiveInt = z.number().int().positive();
const slug = z
  .string()
  .regex(/^[a-z0-9]+(?:[-.][a-z0-9]+)*$/, "a lowercase slug such as llama-3.1-8b-h100-bf16");
const release = z
  .string()
  .regex(/^(v?\d+\.\d+(\.\d+)?([.+-]\S*)?|b\d+)$/, "a release such as 0.11.0 (or b6981 for llama.cpp)");

export const RECIPE_ENGINES = ["vllm", "sglang", "llamacpp"] as const;
export const RECIPE_PRECISIONS = ["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"] as const;
export const RECIPE_METRICS = ["latency", "throughput"] as const;

/** Names that look like credentials: a recipe is shared data and never carries secrets. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)/i;

export const RecipeEngineArgsSchema = z
  .object({
    tensorParallelSize: positiveInt.optional(),
    pipelineParallelSize: positiveInt.optional(),
    maxModelLen: positiveInt.optional(),
    gpuMemoryUtilization: z.number().gt(0).lte(1).optional(),
    dtype: z.enum(["auto", "bfloat16", "float16"]).optional(),
    /** Online quantization of an unquantized checkpoint (a quantized checkpoint needs none). */
    quantization: z.enum(["fp8"]).optional(),
    kvCacheDtype: z.enum(["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]).optional(),
    maxNumSeqs: positiveInt.optional(),
    maxNumBatchedTokens: positiveInt.optional(),
    blockSize: positiveInt.optional(),
    enforceEager: z.boolean().optional(),
  })
  .strict();

export const RecipeSchema = z
  .object({
    id: slug,
    /** Hugging Face repo id, as listed in the model catalog (data/models/). */
    model: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "a Hugging Face repo id such as Qwen/Qwen3-8B"),
    engine: z.enum(RECIPE_ENGINES),
    engineVersion: release,
    /** GPU catalog ids (data/gpus/) the recipe is tuned for; the first is the reference GPU. */
    hardware: z.array(slug).min(1),
    gpuCount: positiveInt,
    precision: z.enum(RECIPE_PRECISIONS),
    metric: z.enum(RECIPE_METRICS),
    engineArgs: RecipeEngineArgsSchema.default({}),
    /** Extra environment for the engine process. Never secrets (HF_TOKEN comes from the user's env). */
    env: z
      .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name"), z.string())
      .default({}),
    notes: z.string().optional(),
    /** Where the configuration comes from: engine recipe docs, vendor docs or blogs, the model card. */
    source: z.string().url().startsWith("https://", "an https link"),
  })
  .strict()
  .superRefine((recipe, ctx) => {
    const tp = recipe.engineArgs.tensorParallelSize ?? 1;
    const pp = recipe.engineArgs.pipelineParallelSize ?? 1;
    if (recipe.gpuCount % (tp * pp) !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["gpuCount"],
        message: `gpuCount ${recipe.gpuCount} must be a multiple of tensorParallelSize ${tp} x pipelineParallelSize ${pp}`,
      });
    }
    const seen = new Set<string>();
    recipe.hardware.forEach((id, i) => {
      if (seen.has(id))
        ctx.addIssue({ code: "custom", path: ["hardware", i], message: `${id} is listed twice` });
      seen.add(id);
    });
    const llamaBuild = recipe.engineVersion.startsWith("b");
    if (llamaBuild !== (recipe.engine === "llamacpp")) {
      ctx.addIssue({
        code: "custom",
        path: ["engineVersion"],
        message: `${recipe.engineVersion} is not a ${recipe.engine === "llamacpp" ? "llama.cpp build (bNNNN)" : "release number"}`,
      });
    }
    for (const name of Object.keys(recipe.env)) {
      if (SECRET_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["env", name],
          message: `${name} looks like a secret: recipes are shared data, set it in your environment instead`,
        });
      }
    }
  });

/** What a recipe file holds (all keys with their defaults optional). */
export type RecipeInput = z.input<typeof RecipeSchema>;
/** A validated recipe. */
export type Recipe = z.output<typeof RecipeSchema>;
export type RecipeEngineArgs = Recipe["engineArgs"];
export type RecipePrecision = Recipe["precision"];
export type RecipeMetric = Recipe["metric"];
