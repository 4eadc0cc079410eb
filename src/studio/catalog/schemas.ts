/**
 * Request schemas of the planner endpoints: the same inputs as `servepilot plan`, `fit` and
 * `generate` (runtime/plan.ts PlanRequest), described for the OpenAPI document. Spellings such as
 * dtype "bf16" are normalized by the runtime, as on the command line.
 */
import { z } from "zod";
import { RECIPE_ENGINES } from "../../core/recipes/recipe.js";
import { ARTIFACT_KINDS } from "../../core/render/artifact-kinds.js";

const positiveInt = z.number().int().positive();

export const PlanBodySchema = z
  .object({
    model: z
      .string()
      .min(1)
      .max(1000)
      .describe("Hugging Face repo id, catalog alias, or local directory / .gguf file on the studio host"),
    revision: z.string().min(1).max(200).optional().describe("Hub revision (branch, tag or commit)"),
    gpu: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("GPU from the catalog (H100, rtx-4090 …); omitted: the GPUs detected on the studio host"),
    gpus: positiveInt.max(4096).optional().describe("number of GPUs (all nodes)"),
    gpuMemory: z
      .string()
      .max(40)
      .optional()
      .describe("memory per GPU with a unit (48GB, 79.19GiB): a custom GPU, or overrides the named GPU's"),
    vramGb: z.number().positive().optional().describe("memory per GPU in GB (same as gpuMemory '<n>GB')"),
    nodes: positiveInt.max(1024).optional().describe("nodes (pipeline stages span nodes)"),
    gpusPerNode: positiveInt.max(64).optional().describe("GPUs per node"),
    engine: z.enum(RECIPE_ENGINES).optional().describe("engine to plan for (default vllm)"),
    engineVersion: z
      .string()
      .max(40)
      .optional()
      .describe("engine release to model (default: the newest known)"),
    tensorParallelSize: positiveInt
      .optional()
      .describe("tensor-parallel size (default: the smallest that serves)"),
    pipelineParallelSize: positiveInt.optional().describe("pipeline-parallel size"),
    maxModelLen: positiveInt
      .optional()
      .describe("context length (default: the model's maximum, or what fits)"),
    gpuMemoryUtilization: z
      .number()
      .gt(0)
      .lte(1)
      .optional()
      .describe("fraction of GPU memory the engine may use"),
    dtype: z.string().max(20).optional().describe("auto, bfloat16 (bf16), float16 (fp16, half), float32"),
    quantization: z
      .string()
      .max(40)
      .optional()
      .describe("fp8 (online, on FP8 GPUs), or the checkpoint's method (awq, gptq …); none"),
    kvCacheDtype: z.string().max(20).optional().describe("auto, fp8, fp8_e4m3, fp8_e5m2"),
    maxNumSeqs: positiveInt.optional().describe("maximum concurrent sequences"),
    maxNumBatchedTokens: positiveInt.optional().describe("tokens per scheduler step"),
    blockSize: positiveInt.optional().describe("KV block size (tokens)"),
    enforceEager: z.boolean().optional().describe("no CUDA graphs"),
    promptTokens: positiveInt.optional().describe("prompt length of the workload (default 1024)"),
    genTokens: positiveInt.optional().describe("generated tokens per request (default 256)"),
    concurrency: positiveInt.optional().describe("concurrent requests (default 1)"),
    batchingMode: z.enum(["latency", "throughput", "balanced"]).optional().describe("batching mode"),
    headroomGb: z
      .number()
      .positive()
      .optional()
      .describe("GB per GPU to leave unused (sets the utilization)"),
    overheadGb: z.number().positive().optional().describe("GB per GPU reserved for other uses"),
    interconnect: z
      .enum(["pcie", "nvlink", "unknown"])
      .optional()
      .describe("pcie when the GPUs have no NVLink / Infinity Fabric bridge"),
    paramsB: z.number().positive().optional().describe("parameters you expect, in billions"),
    offline: z
      .boolean()
      .default(true)
      .describe(
        "do not contact the Hugging Face Hub (default true: the studio plans from disk and the catalog)",
      ),
  })
  .strict();
export type PlanBody = z.output<typeof PlanBodySchema>;

export const FitBodySchema = z
  .object({
    model: PlanBodySchema.shape.model,
    maxModelLen: positiveInt.optional().describe("context length (default: the model's maximum)"),
    concurrency: positiveInt.optional().describe("requests of maxModelLen tokens that must fit at once"),
    maxGpus: positiveInt.max(64).optional().describe("largest GPU count to consider (default 8)"),
    engineVersion: z.string().max(40).optional().describe("vLLM release to model"),
    vendor: z.enum(["nvidia", "amd"]).optional().describe("only nvidia or amd GPUs"),
    offline: PlanBodySchema.shape.offline,
  })
  .strict();

export const GenerateBodySchema = PlanBodySchema.extend({
  emit: z
    .array(z.enum(ARTIFACT_KINDS))
    .min(1)
    .optional()
    .describe(`artifacts to render: ${ARTIFACT_KINDS.join(", ")} (default: the set the plan needs)`),
  port: positiveInt.max(65_535).optional().describe("port the engine listens on (default 8000)"),
}).strict();

export const GenerateQuerySchema = z.object({
  format: z
    .enum(["json", "zip"])
    .optional()
    .describe("json: {files: [{path, content}]}; zip: a zip archive (also with Accept: application/zip)"),
});

export const InspectQuerySchema = z.object({
  model: PlanBodySchema.shape.model,
  revision: z.string().min(1).max(200).optional().describe("Hub revision"),
  offline: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true")
    .describe("do not contact the Hugging Face Hub (default true)"),
});

export const CatalogFilterSchema = z.object({
  filter: z.string().max(200).optional().describe("substring of an id, name, family or alias"),
  vendor: z.enum(["nvidia", "amd"]).optional().describe("GPUs only: nvidia or amd"),
});
