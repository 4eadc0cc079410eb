import type { PlanInputs } from "./build-plan.js";
import type { ConfigContext, EvaluatedConfig } from "./evaluate-config.js";
import { evaluateConfig } from "./evaluate-config.js";
import type { Recommendation, UserEngineSettings } from "./types.js";
import { validTensorParallelSizes } from "./validate-settings.js";

const GIB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;
const tokens = (n: number) => n.toLocaleString("en-US");

/** A length vLLM's estimate allows, rounded down to a tidy multiple (1024 above 4k, 256 below). */
function tidyLength(len: number): number {
  const step = len >= 4096 ? 1024 : 256;
  return Math.max(step, Math.floor(len / step) * step);
}

function target(inputs: PlanInputs): number {
  return Math.max(1, inputs.workload.concurrency);
}

/** KV tokens the workload keeps resident: every concurrent request at its full prompt + output length. */
function workloadTokens(inputs: PlanInputs): number {
  return target(inputs) * (inputs.workload.promptTokens + inputs.workload.genTokens);
}

/**
 * Settings the user left open, chosen by the planner (each with its reason): GPU memory
 * utilization under memory already in use, the smallest tensor-parallel size that serves the
 * workload (pipeline stages across nodes when one node is not enough), and the largest context
 * that fits when the model's maximum does not.
 */
export function chooseSettings(
  ctx: ConfigContext,
  inputs: PlanInputs,
): { settings: UserEngineSettings; recommendations: Recommendation[] } {
  const settings: UserEngineSettings = { ...inputs.user };
  const recommendations: Recommendation[] = [];
  const total = ctx.target.totalBytes;
  const free = ctx.target.freeBytes;
  if (settings.gpuMemoryUtilization === undefined && free !== null && ctx.engine.engine === "vllm") {
    const defaultUtil = ctx.engine.spec.defaultGpuMemoryUtilization;
    if (defaultUtil * total > free) {
      const util = Math.floor((free / total) * 100 - 1) / 100;
      settings.gpuMemoryUtilization = util;
      recommendations.push({
        setting: "gpuMemoryUtilization",
        value: util,
        why: `${gib(total - free)} of ${gib(total)} is already in use on the GPU; vLLM refuses to start when utilization x total (${defaultUtil} x ${gib(total)}) exceeds the free memory`,
      });
    }
  }
  if (settings.tensorParallelSize === undefined) {
    const perNode = Math.min(inputs.gpusPerNode, inputs.gpuCount);
    const sizes = validTensorParallelSizes(ctx.arch, perNode);
    const tries = sizes.map((tp) => ({
      tp,
      result: evaluateConfig(ctx, { ...settings, tensorParallelSize: tp }),
    }));
    const serving = tries.find((t) => t.result.fits);
    const enough = tries.find((t) => t.result.fits && t.result.memory.kv.tokens >= workloadTokens(inputs));
    const pick = enough ?? serving;
    if (pick) {
      settings.tensorParallelSize = pick.tp;
      if (pick.tp > 1 || sizes.length > 1) {
        recommendations.push({
          setting: "tensorParallelSize",
          value: pick.tp,
          why: enough
            ? `smallest tensor-parallel size whose KV cache (${tokens(pick.result.memory.kv.tokens)} tokens) holds the workload: ${target(inputs)} concurrent requests of ${tokens(inputs.workload.promptTokens + inputs.workload.genTokens)} tokens`
            : `smallest tensor-parallel size that fits (${pick.result.memory.kv.maxConcurrency.toFixed(1)} requests of ${tokens(pick.result.args.maxModelLen)} tokens at once)`,
        });
      }
    } else if (inputs.nodes > 1 && settings.pipelineParallelSize === undefined) {
      const tp = sizes.at(-1) ?? 1;
      for (let pp = 2; pp <= inputs.nodes; pp++) {
        const result = evaluateConfig(ctx, { ...settings, tensorParallelSize: tp, pipelineParallelSize: pp });
        if (result.fits) {
          settings.tensorParallelSize = tp;
          settings.pipelineParallelSize = pp;
          recommendations.push({
            setting: "pipelineParallelSize",
            value: pp,
            why: `the model does not fit in one node of ${perNode} GPUs; ${pp} pipeline stages (one per node, TP=${tp} inside each) fit`,
          });
          break;
        }
      }
    }
    if (settings.tensorParallelSize === undefined && settings.maxModelLen === undefined) {
      for (const { tp, result } of tries) {
        const failure = result.memory.failures.find((f) => f.kind === "max-model-len-too-large");
        if (failure?.estimatedMaxModelLen && failure.estimatedMaxModelLen >= 1024) {
          settings.tensorParallelSize = tp;
          settings.maxModelLen = tidyLength(failure.estimatedMaxModelLen);
          recommendations.push({
            setting: "maxModelLen",
            value: settings.maxModelLen,
            why: `the model's maximum of ${tokens(result.args.maxModelLen)} tokens does not fit in the KV cache at TP=${tp}; vLLM estimates ${tokens(failure.estimatedMaxModelLen)} as the largest that fits`,
          });
          break;
        }
      }
    }
    settings.tensorParallelSize ??= sizes.at(-1) ?? 1;
  } else if (settings.maxModelLen === undefined) {
    const result = evaluateConfig(ctx, settings);
    const failure = result.memory.failures.find((f) => f.kind === "max-model-len-too-large");
    if (failure?.estimatedMaxModelLen && failure.estimatedMaxModelLen >= 256) {
      settings.maxModelLen = tidyLength(failure.estimatedMaxModelLen);
      recommendations.push({
        setting: "maxModelLen",
        value: settings.maxModelLen,
        why: `the model's maximum of ${tokens(result.args.maxModelLen)} tokens does not fit in the KV cache; vLLM estimates ${tokens(failure.estimatedMaxModelLen)} as the largest that fits`,
      });
    }
  }
  return { settings, recommendations };
}

/** Concrete changes that make a failing plan fit, each verified by planning it again. */
export function findFixes(ctx: ConfigContext, settings: UserEngineSettings, inputs: PlanInputs): string[] {
  const fixes: string[] = [];
  const base = evaluateConfig(ctx, settings);
  const describe = (r: EvaluatedConfig) =>
    `${gib(r.memory.perRank.kvCache)} of KV per GPU, ${r.memory.kv.maxConcurrency.toFixed(2)} requests of ${tokens(r.args.maxModelLen)} tokens at once`;
  const tp = base.args.tensorParallelSize;
  const larger = validTensorParallelSizes(ctx.arch, 64).filter((size) => size > tp);
  for (const size of larger) {
    const result = evaluateConfig(ctx, { ...settings, tensorParallelSize: size });
    if (result.fits) {
      const more =
        size * base.args.pipelineParallelSize > inputs.gpuCount
          ? ` (needs ${size * base.args.pipelineParallelSize} GPUs)`
          : "";
      fixes.push(`--tensor-parallel-size ${size}${more} fits with ${describe(result)}`);
      break;
    }
  }
  const lenFailure = base.memory.failures.find((f) => f.kind === "max-model-len-too-large");
  if (lenFailure?.estimatedMaxModelLen && lenFailure.estimatedMaxModelLen >= 256) {
    const len = tidyLength(lenFailure.estimatedMaxModelLen);
    const result = evaluateConfig(ctx, { ...settings, maxModelLen: len });
    if (result.fits) fixes.push(`--max-model-len ${len} fits with ${describe(result)}`);
  }
  if (ctx.gpu.fp8 && !base.args.kvCacheDtype.startsWith("fp8")) {
    const result = evaluateConfig(ctx, { ...settings, kvCacheDtype: "fp8" });
    if (result.fits)
      fixes.push(`--kv-cache-dtype fp8 halves the KV bytes per token and fits with ${describe(result)}`);
  }
  if (
    ctx.engine.engine === "vllm" &&
    ctx.gpu.fp8 &&
    !ctx.arch.quantization &&
    base.args.quantization === null
  ) {
    const result = evaluateConfig(ctx, { ...settings, quantization: "fp8" });
    if (result.fits) {
      fixes.push(
        `--quantization fp8 (online, weights ${gib(result.memory.perRank.weights)} per GPU) fits with ${describe(result)}`,
      );
    }
  }
  if (
    ctx.engine.engine === "vllm" &&
    base.args.gpuMemoryUtilization < 0.95 &&
    ctx.target.freeBytes === null
  ) {
    const result = evaluateConfig(ctx, { ...settings, gpuMemoryUtilization: 0.95 });
    if (result.fits) fixes.push(`--gpu-memory-utilization 0.95 fits with ${describe(result)}`);
  }
  return fixes;
}

/** Advice on a plan that fits (never applied: the user decides). */
export function recommend(ctx: ConfigContext, final: EvaluatedConfig, inputs: PlanInputs): Recommendation[] {
  const out: Recommendation[] = [];
  if (!final.fits) return out;
  const want = target(inputs);
  const kv = final.memory.kv;
  if (kv.tokens < workloadTokens(inputs) && ctx.gpu.fp8 && !final.args.kvCacheDtype.startsWith("fp8")) {
    const fp8 = evaluateConfig(ctx, {
      ...inputs.user,
      tensorParallelSize: final.args.tensorParallelSize,
      maxModelLen: final.args.maxModelLen,
      kvCacheDtype: "fp8",
    });
    if (fp8.fits) {
      out.push({
        setting: "kvCacheDtype",
        value: "fp8",
        why: `the KV cache holds ${tokens(kv.tokens)} tokens, less than the ${tokens(workloadTokens(inputs))} the workload keeps resident; fp8 KV holds ${tokens(fp8.memory.kv.tokens)}`,
      });
    }
  }
  const workloadLen = inputs.workload.promptTokens + inputs.workload.genTokens;
  if (
    final.args.maxModelLen > 4 * workloadLen &&
    kv.maxConcurrency < want &&
    inputs.user.maxModelLen === undefined
  ) {
    const len = tidyLength(Math.max(workloadLen * 2, 4096));
    const shorter = evaluateConfig(ctx, {
      ...inputs.user,
      tensorParallelSize: final.args.tensorParallelSize,
      maxModelLen: len,
    });
    if (shorter.fits) {
      out.push({
        setting: "maxModelLen",
        value: len,
        why: `requests of ${tokens(workloadLen)} tokens do not need ${tokens(final.args.maxModelLen)}; at ${tokens(len)} the cache admits ${shorter.memory.kv.maxConcurrency.toFixed(1)} full-length requests (it always holds ${Math.floor(kv.tokens / workloadLen)} of the workload's size)`,
      });
    }
  }
  const perRequest = Math.max(1, workloadLen);
  const byKv = Math.floor(kv.tokens / perRequest);
  if (inputs.workload.batchingMode === "latency" && final.args.maxNumSeqs > want) {
    out.push({
      setting: "maxNumSeqs",
      value: want,
      why: `latency mode: cap the running batch at the ${want} concurrent requests expected, so each decode step stays short`,
    });
  } else if (inputs.workload.batchingMode === "throughput" && byKv > final.args.maxNumSeqs) {
    out.push({
      setting: "maxNumSeqs",
      value: Math.min(byKv, 2048),
      why: `throughput mode: the KV cache holds ${byKv} requests of ${tokens(perRequest)} tokens, more than max_num_seqs ${final.args.maxNumSeqs} lets run`,
    });
  }
  if (inputs.workload.promptTokens >= 1024 && ctx.engine.engine === "vllm") {
    out.push({
      setting: "enablePrefixCaching",
      value: true,
      why: "on by default in vLLM V1: prompts sharing a prefix (system prompt, few-shot examples) reuse its KV blocks instead of recomputing them",
    });
  }
  const pinned = {
    ...inputs.user,
    tensorParallelSize: final.args.tensorParallelSize,
    maxModelLen: final.args.maxModelLen,
  };
  if (
    ctx.engine.engine === "vllm" &&
    inputs.workload.promptTokens > final.args.maxNumBatchedTokens &&
    inputs.user.maxNumBatchedTokens === undefined
  ) {
    const budget = Math.ceil(inputs.workload.promptTokens / 1024) * 1024;
    const larger = evaluateConfig(ctx, { ...pinned, maxNumBatchedTokens: budget });
    if (larger.fits) {
      out.push({
        setting: "maxNumBatchedTokens",
        value: budget,
        why: `chunked prefill splits a ${tokens(inputs.workload.promptTokens)}-token prompt into ${Math.ceil(inputs.workload.promptTokens / final.args.maxNumBatchedTokens)} steps of ${tokens(final.args.maxNumBatchedTokens)}; ${tokens(budget)} prefills it in one step (lower TTFT) for ${gib(larger.memory.perRank.activation - final.memory.perRank.activation)} more activation memory`,
      });
    }
  }
  if (
    ctx.engine.engine === "vllm" &&
    ctx.engine.spec.cudaGraphInBudget &&
    !final.args.enforceEager &&
    kv.tokens < workloadTokens(inputs)
  ) {
    const eager = evaluateConfig(ctx, { ...pinned, enforceEager: true });
    out.push({
      setting: "enforceEager",
      value: true,
      why: `the KV cache is short of the workload; without CUDA graphs it grows by ${gib(eager.memory.perRank.kvCache - final.memory.perRank.kvCache)} per GPU (${tokens(eager.memory.kv.tokens)} tokens), at the cost of slower decode steps`,
    });
  }
  const used = final.args.tensorParallelSize * final.args.pipelineParallelSize;
  if (inputs.gpuCount >= 2 * used) {
    out.push({
      setting: "replicas",
      value: Math.floor(inputs.gpuCount / used),
      why: `the model fits on ${used} GPU${used === 1 ? "" : "s"}; ${Math.floor(inputs.gpuCount / used)} independent replicas serve more traffic than one engine over all ${inputs.gpuCount} GPUs`,
    });
  }
  return out;
}
