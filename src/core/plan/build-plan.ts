import type { LlamaCppSpec } from "../engines/llamacpp-spec.js";
import { selectLlamaCppSpec, selectSglangSpec } from "../engines/select-release.js";
import type { SglangSpec } from "../engines/sglang-spec.js";
import { compareVersions, selectByVersion } from "../engines/version.js";
import type { VllmSpec } from "../engines/vllm-spec.js";
import type { GpuSpec } from "../gpu/gpu-spec.js";
import { gpuTarget } from "../memory/gpu-target.js";
import type { EngineName } from "../memory/types.js";
import type { ModelDescription } from "../model/describe-model.js";
import type { Efficiency } from "../perf/efficiency.js";
import { estimateRoofline, type RooflineInput } from "../perf/roofline.js";
import { schedulerPolicy } from "../perf/scheduler.js";
import { selectEfficiency } from "../perf/select-efficiency.js";
import { renderServeArgv } from "../render/serve-command.js";
import { renderCommandLine } from "../render/shell-quote.js";
import {
  type ConfigContext,
  type EngineData,
  type EvaluatedConfig,
  evaluateConfig,
} from "./evaluate-config.js";
import { chooseSettings, findFixes, recommend } from "./recommend.js";
import type { Plan, UserEngineSettings, Workload } from "./types.js";
import { validateSettings } from "./validate-settings.js";

const GIB = 2 ** 30;
const round2 = (bytes: number) => Math.round((bytes / GIB) * 100) / 100;

export interface PlanInputs {
  modelId: string;
  model: ModelDescription;
  gpu: GpuSpec;
  gpuCount: number;
  nodes: number;
  gpusPerNode: number;
  /** Memory as the runtime reports it, when the user gave --gpu-memory or detection measured it. */
  totalGiB?: number | null;
  /** Free memory per GPU at start (detected GPUs), bytes. */
  freeBytes?: number | null;
  engine: EngineName;
  /** Requested engine release; null = the newest modelled. */
  engineVersion: string | null;
  engineSpecs: EngineSpecs;
  /** Performance efficiency factors (data/engines/perf-efficiency.yaml); defaults when absent. */
  efficiency?: readonly Efficiency[];
  /** GGUF tensors when the model came as a GGUF file. */
  ggufTensors?: ReadonlyArray<{ name: string; shape: readonly number[]; ggmlType: string }>;
  user: UserEngineSettings;
  workload: Workload;
}

export interface EngineSpecs {
  vllm: readonly VllmSpec[];
  sglang: readonly SglangSpec[];
  llamacpp: readonly LlamaCppSpec[];
}

/** The newest release the data describes (an entry's `through`, else its `from`). */
export function newestRelease(specs: readonly VllmSpec[]): string {
  const releases = specs.map((spec) => spec.through ?? spec.from).sort(compareVersions);
  return releases.at(-1) ?? "0.0.0";
}

/** The lower bound of the open-ended range (">=0.5.9"): the newest release SGLang / llama.cpp data describes. */
function newestOpenRange(specs: ReadonlyArray<{ versions: string }>): string {
  const open = specs.find((spec) => !spec.versions.includes("<"));
  return open?.versions.replace(/^>=\s*/, "").trim() ?? "unknown";
}

/** The engine data that applies to the requested (or newest) release. */
export function resolveEngineData(
  engine: EngineName,
  version: string | null,
  specs: EngineSpecs,
): { data: EngineData; version: string } {
  switch (engine) {
    case "vllm": {
      const v = version ?? newestRelease(specs.vllm);
      return { data: { engine, spec: selectByVersion(specs.vllm, v, "vLLM") }, version: v };
    }
    case "sglang": {
      const v = version ?? newestOpenRange(specs.sglang);
      return { data: { engine, spec: selectSglangSpec(specs.sglang, v) }, version: v };
    }
    case "llamacpp": {
      const v = version ?? newestOpenRange(specs.llamacpp);
      return { data: { engine, spec: selectLlamaCppSpec(specs.llamacpp, v) }, version: v };
    }
  }
}

const TRADEOFF_LENGTHS = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576];

/** The whole plan: verdict, per-rank memory, KV capacity, recommendations, fixes, performance, serve command. */
export function buildPlan(inputs: PlanInputs): Plan {
  return buildPlanInternal(inputs, () => {});
}

function buildPlanInternal(inputs: PlanInputs, onPerfInput: (input: RooflineInput) => void): Plan {
  const { model } = inputs;
  const arch = model.architecture;
  validateSettings(arch, inputs.user, inputs.gpuCount);
  const { data, version: engineVersion } = resolveEngineData(
    inputs.engine,
    inputs.engineVersion,
    inputs.engineSpecs,
  );
  const ctx: ConfigContext = {
    arch,
    gpu: inputs.gpu,
    target: gpuTarget(inputs.gpu, { totalGiB: inputs.totalGiB ?? null, freeBytes: inputs.freeBytes ?? null }),
    engine: data,
    engineVersion,
    weightBytesTotal: model.weightBytes,
    gpuCount: inputs.gpuCount,
    ...(inputs.ggufTensors ? { ggufTensors: inputs.ggufTensors } : {}),
  };
  const chosen = chooseSettings(ctx, inputs);
  const final: EvaluatedConfig = evaluateConfig(ctx, chosen.settings);
  const replicas = Math.max(
    1,
    Math.floor(inputs.gpuCount / (final.args.tensorParallelSize * final.args.pipelineParallelSize)),
  );
  const fixes = final.fits ? [] : findFixes(ctx, chosen.settings, inputs);
  const recommendations = [...chosen.recommendations, ...recommend(ctx, final, inputs)];

  const reasons: string[] = [];
  const m = final.memory;
  if (final.fits) {
    const capacity =
      inputs.engine === "llamacpp"
        ? `${final.args.maxNumSeqs} slots of ${Math.floor(m.kv.tokens / Math.max(1, final.args.maxNumSeqs)).toLocaleString("en-US")} tokens (-c ${m.kv.tokens.toLocaleString("en-US")} shared by --parallel ${final.args.maxNumSeqs})`
        : `${m.kv.tokens.toLocaleString("en-US")} tokens of KV, ${m.kv.maxConcurrency.toFixed(2)} requests of ${final.args.maxModelLen.toLocaleString("en-US")} tokens at once`;
    reasons.push(
      `fits: ${round2(m.perRank.weights)} GiB of weights and ${round2(m.perRank.kvCache)} GiB of KV cache per GPU; ${capacity}`,
    );
  } else {
    for (const failure of m.failures) reasons.push(`does not fit: ${failure.message}`);
    for (const fix of fixes) reasons.push(`fix: ${fix}`);
  }

  const tradeoff = TRADEOFF_LENGTHS.filter((len) => len < (arch.maxContext ?? final.args.maxModelLen))
    .concat([arch.maxContext ?? final.args.maxModelLen])
    .map((len) => {
      const candidate = evaluateConfig(ctx, { ...chosen.settings, maxModelLen: len });
      return {
        maxModelLen: len,
        maxConcurrency: Math.round(candidate.memory.kv.maxConcurrency * 100) / 100,
        fits: candidate.fits,
      };
    });

  const rooflineInput: RooflineInput = {
    arch,
    activeParams: model.params.active,
    totalParams: model.params.total,
    weightBytesPerRank: m.perRank.weights,
    kvBytesPerTokenPerGpu: m.kv.bytesPerTokenPerGpu,
    gpu: inputs.gpu,
    tensorParallelSize: final.args.tensorParallelSize,
    pipelineParallelSize: final.args.pipelineParallelSize,
    fp8Compute: inputs.gpu.fp8 && (final.args.quantization === "fp8" || arch.quantization?.weightBits === 8),
    workload: inputs.workload,
    // requests of the workload's size the KV cache holds at once, within the engine's sequence cap
    maxBatch: Math.max(
      1,
      Math.min(
        final.args.maxNumSeqs > 0 ? final.args.maxNumSeqs : Number.POSITIVE_INFINITY,
        Math.floor(m.kv.tokens / Math.max(1, inputs.workload.promptTokens + inputs.workload.genTokens)),
      ),
    ),
    maxNumBatchedTokens: final.args.maxNumBatchedTokens,
    scheduler: schedulerPolicy(inputs.engine, engineVersion, {
      mla: arch.attention.mla !== null,
      maxNumBatchedTokens: final.args.maxNumBatchedTokens,
      maxModelLen: final.args.maxModelLen,
    }),
    efficiency: selectEfficiency(
      inputs.efficiency ?? [],
      inputs.engine,
      inputs.gpu.architecture,
      arch.moe ? "moe" : "dense",
    ),
  };
  onPerfInput(rooflineInput);
  const roofline = estimateRoofline(rooflineInput);

  const onlineQuantization = !arch.quantization && final.args.quantization ? final.args.quantization : null;
  const serveArgv = renderServeArgv({
    engine: inputs.engine,
    model: inputs.modelId,
    tensorParallelSize: final.args.tensorParallelSize,
    pipelineParallelSize: final.args.pipelineParallelSize,
    maxModelLen: final.args.maxModelLen,
    gpuMemoryUtilization: final.args.gpuMemoryUtilization,
    dtype: inputs.user.dtype && inputs.user.dtype !== "auto" ? final.args.dtype : "auto",
    onlineQuantization,
    kvCacheDtype: final.args.kvCacheDtype,
    maxNumSeqs: final.args.maxNumSeqs,
    maxNumBatchedTokens: final.args.maxNumBatchedTokens,
    blockSize: final.args.blockSize,
    enforceEager: final.args.enforceEager,
    defaults: evaluateConfig(ctx, { tensorParallelSize: final.args.tensorParallelSize }).args,
  });

  const warnings = [...model.warnings];
  if (inputs.engine === "llamacpp" && !inputs.ggufTensors) {
    warnings.push(
      `llama.cpp serves GGUF files: ${inputs.modelId} is sized at its checkpoint dtype; a quantized GGUF (e.g. Q4_K_M, about 4.8 bits per weight) needs roughly a third of the weight memory — plan the .gguf file itself for exact figures`,
    );
  }
  if (replicas > 1)
    warnings.push(
      `${inputs.gpuCount} GPUs hold ${replicas} replicas of TP=${final.args.tensorParallelSize}: run one engine per replica behind a load balancer`,
    );
  return {
    fits: final.fits,
    reasons,
    model: {
      id: inputs.modelId,
      architecture: arch,
      params: { total: model.params.total, active: model.params.active },
    },
    hardware: {
      gpu: inputs.gpu.name,
      gpuId: inputs.gpu.id,
      count: inputs.gpuCount,
      memoryPerGpuGiB: round2(ctx.target.totalBytes),
      nodes: inputs.nodes,
      gpusPerNode: inputs.gpusPerNode,
    },
    config: {
      engine: inputs.engine,
      engineVersion,
      tensorParallelSize: final.args.tensorParallelSize,
      pipelineParallelSize: final.args.pipelineParallelSize,
      replicas,
      maxModelLen: final.args.maxModelLen,
      gpuMemoryUtilization: final.args.gpuMemoryUtilization,
      dtype: final.args.dtype,
      quantization: final.args.quantization,
      kvCacheDtype: final.args.kvCacheDtype,
      maxNumSeqs: final.args.maxNumSeqs,
      maxNumBatchedTokens: final.args.maxNumBatchedTokens,
      blockSize: m.kv.blockSize,
      enforceEager: final.args.enforceEager,
    },
    memory: {
      perGpu: {
        totalGiB: round2(m.perRank.total),
        requestedGiB: round2(m.perRank.requested),
        weightsGiB: round2(m.perRank.weights),
        activationGiB: round2(m.perRank.activation),
        nonTorchGiB: round2(m.perRank.nonTorch),
        cudaGraphGiB: round2(m.perRank.cudaGraph),
        kvCacheGiB: round2(m.perRank.kvCache),
      },
    },
    kvCache: {
      tokens: m.kv.tokens,
      maxConcurrency: Math.round(m.kv.maxConcurrency * 100) / 100,
      bytesPerTokenPerGpu: m.kv.bytesPerTokenPerGpu,
      blockSize: m.kv.blockSize,
      numBlocks: m.kv.numBlocks,
    },
    performance: {
      ttftMs: roofline.ttftMs,
      tpotMs: roofline.tpotMs,
      outputTokensPerSecond: roofline.outputTokensPerSecond,
      perRequestTokensPerSecond: roofline.perRequestTokensPerSecond,
      curve: roofline.curve,
      saturation: roofline.saturation,
      assumptions: roofline.assumptions,
    },
    tradeoff,
    recommendations,
    warnings,
    notes: m.notes,
    artifacts: { serveCommand: renderCommandLine(serveArgv), serveArgv },
  };
}

/** The performance model's input for a plan (calibration re-runs the model with other efficiency factors). */
export function buildPlanWithPerfInput(inputs: PlanInputs): { plan: Plan; perfInput: RooflineInput } {
  let captured: RooflineInput | null = null;
  const plan = buildPlanInternal(inputs, (input) => {
    captured = input;
  });
  return { plan, perfInput: captured as unknown as RooflineInput };
}
