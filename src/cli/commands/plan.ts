import type { Command } from "commander";
import { ServepilotError } from "../../core/errors.js";
import type { PlanRequest } from "../../runtime/plan.js";
import { action, type CommandContext, type CommandResult } from "../context.js";
import { fraction, oneOf, positiveInt, positiveNumber } from "../options.js";

export interface PlanFlags extends Omit<PlanRequest, "model"> {
  model?: string;
  profile?: string;
  tp?: number;
  pp?: number;
  trustRemoteCode?: boolean;
  explain?: boolean;
}

const REQUEST_KEYS: Array<keyof PlanRequest> = [
  "revision",
  "gpu",
  "gpus",
  "gpuMemory",
  "vramGb",
  "nodes",
  "gpusPerNode",
  "engine",
  "engineVersion",
  "tensorParallelSize",
  "pipelineParallelSize",
  "maxModelLen",
  "gpuMemoryUtilization",
  "dtype",
  "quantization",
  "kvCacheDtype",
  "maxNumSeqs",
  "maxNumBatchedTokens",
  "blockSize",
  "enforceEager",
  "promptTokens",
  "genTokens",
  "concurrency",
  "batchingMode",
  "offline",
  "headroomGb",
  "overheadGb",
  "interconnect",
  "paramsB",
];

/** The plan request from a profile (if any) with command-line flags over it. */
export async function requestFromFlags(
  positional: string | undefined,
  flags: PlanFlags,
): Promise<PlanRequest> {
  let request: Partial<PlanRequest> = {};
  if (flags.profile) {
    const { loadProfile, profileToRequest } = await import("../../runtime/profile.js");
    request = profileToRequest(await loadProfile(flags.profile));
  }
  if (positional && flags.model && positional !== flags.model) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `two models given: ${JSON.stringify(positional)} and --model ${JSON.stringify(flags.model)}`,
    );
  }
  const model = positional ?? flags.model ?? request.model;
  if (!model) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      "no model given: pass a model id (or --model, or --profile)",
    );
  }
  for (const key of REQUEST_KEYS) {
    const value = flags[key as keyof PlanFlags];
    if (value !== undefined) (request as Record<string, unknown>)[key] = value;
  }
  if (flags.tp !== undefined) request.tensorParallelSize = flags.tp;
  if (flags.pp !== undefined) request.pipelineParallelSize = flags.pp;
  return { ...request, model };
}

async function runPlan(
  ctx: CommandContext,
  positional: string | undefined,
  flags: PlanFlags,
): Promise<CommandResult> {
  const { plan } = await import("../../runtime/plan.js");
  const { resolveDataDir } = await import("../../runtime/paths.js");
  const { renderPlan } = await import("../render/plan.js");
  const request = await requestFromFlags(positional, flags);
  const result = await plan(request, {
    dataDir: resolveDataDir({ flag: ctx.dataDirFlag, env: ctx.env }),
    env: ctx.env,
  });
  return { data: result, human: renderPlan(result, ctx.colors, { explain: flags.explain === true }) };
}

/** Flags shared by `plan` and (later) `generate`: the seed planner's options plus engine and topology ones. */
export function addPlanOptions(command: Command): Command {
  return command
    .option("--model <id>", "model (same as the positional argument)")
    .option("--profile <file>", "read the request from a YAML profile; flags override it")
    .option("--revision <rev>", "Hub revision")
    .option(
      "--trust-remote-code",
      "accepted for compatibility: servepilot reads config.json only and never runs model code",
    )
    .option("--dtype <dtype>", "auto, bfloat16 (bf16), float16 (fp16, half), float32")
    .option(
      "--quantization <method>",
      "fp8 (online, on FP8 GPUs), or the checkpoint's method (awq, gptq, ...); none",
    )
    .option("--kv-cache-dtype <dtype>", "auto, fp8, fp8_e4m3, fp8_e5m2")
    .option(
      "--max-model-len <tokens>",
      "context length (default: the model's maximum, or the largest that fits)",
      positiveInt("--max-model-len"),
    )
    .option(
      "--params-b <billions>",
      "parameters you expect, in billions (a warning when the config counts otherwise)",
      positiveNumber("--params-b"),
    )
    .option("--gpu <name>", "GPU type from the catalog (default: detect the GPUs here)")
    .option("--gpus <count>", "number of GPUs", positiveInt("--gpus"))
    .option(
      "--gpu-memory <size>",
      "memory per GPU with a unit (48GB, 79.19GiB): a custom GPU, or overrides --gpu's",
    )
    .option(
      "--vram-gb <gb>",
      "memory per GPU in GB (same as --gpu-memory <gb>GB)",
      positiveNumber("--vram-gb"),
    )
    .option(
      "--interconnect <kind>",
      "pcie when the GPUs have no NVLink / Infinity Fabric bridge (slower tensor parallel)",
      oneOf("--interconnect", ["pcie", "nvlink", "unknown"]),
    )
    .option("--nodes <count>", "nodes (pipeline stages span nodes)", positiveInt("--nodes"))
    .option("--gpus-per-node <count>", "GPUs per node", positiveInt("--gpus-per-node"))
    .option(
      "--tensor-parallel-size, --tp <size>",
      "tensor-parallel size (default: the smallest that serves the workload)",
      positiveInt("--tensor-parallel-size"),
    )
    .option("--pp <size>", "pipeline-parallel size", positiveInt("--pp"))
    .option("--engine <engine>", "vllm (default)", oneOf("--engine", ["vllm", "sglang", "llamacpp"]))
    .option("--engine-version <version>", "engine release to model (default: the newest known)")
    .option(
      "--gpu-memory-utilization <fraction>",
      "fraction of GPU memory the engine may use (default: the engine's)",
      fraction("--gpu-memory-utilization"),
    )
    .option("--max-num-seqs <n>", "maximum concurrent sequences", positiveInt("--max-num-seqs"))
    .option(
      "--max-num-batched-tokens <n>",
      "tokens per scheduler step",
      positiveInt("--max-num-batched-tokens"),
    )
    .option("--block-size <tokens>", "KV block size", positiveInt("--block-size"))
    .option("--enforce-eager", "no CUDA graphs")
    .option(
      "--prompt-tokens <n>",
      "prompt length of the workload (default 1024)",
      positiveInt("--prompt-tokens"),
    )
    .option("--gen-tokens <n>", "generated tokens per request (default 256)", positiveInt("--gen-tokens"))
    .option("--concurrency <n>", "concurrent requests (default 1)", positiveInt("--concurrency"))
    .option(
      "--batching-mode <mode>",
      "latency, throughput or balanced",
      oneOf("--batching-mode", ["latency", "throughput", "balanced"]),
    )
    .option(
      "--overhead-gb <gb>",
      "GB per GPU reserved for other uses, taken from the KV cache",
      positiveNumber("--overhead-gb"),
    )
    .option(
      "--headroom-gb <gb>",
      "GB per GPU to leave unused (sets the utilization)",
      positiveNumber("--headroom-gb"),
    )
    .option("--offline", "do not contact the Hugging Face Hub")
    .option("--explain", "show how each figure was obtained and the context / concurrency trade-off");
}

export function registerPlan(program: Command): void {
  addPlanOptions(
    program
      .command("plan")
      .description("does a model fit, with which engine settings, and how fast will it run")
      .argument("[model]", "Hugging Face repo id, catalog alias, or local directory"),
  ).action(action(runPlan));
}
