import type { Architecture, AttentionKind, MlpKind } from "./architecture.js";
import { countParams, type ParamComponents } from "./count-params.js";
import { type KvBytesPerToken, kvBytesPerToken } from "./kv-cache.js";
import { parseConfig } from "./parse-config.js";
import { countTensorParams, type TensorInfo } from "./tensor-params.js";
import { dtypeBytes, estimateWeightBytes } from "./weight-bytes.js";

export interface ModelDescription {
  architecture: Architecture;
  layerSummary: {
    attention: Partial<Record<AttentionKind, number>>;
    mlp: Partial<Record<MlpKind, number>>;
  };
  params: {
    total: number;
    active: number;
    components: ParamComponents;
    mtp: number;
    /** "safetensors" / "gguf" when counted from the files' tensor shapes, "architecture" when computed from config. */
    source: "safetensors" | "gguf" | "architecture";
    /** The architecture-derived total, kept for comparison when safetensors counts are used. */
    fromArchitecture: number;
    published: number | null;
  };
  kvCache: KvBytesPerToken & { dtype: string };
  /** Checkpoint weight bytes (quantized parts at their packed size). */
  weightBytes: number;
  warnings: string[];
}

export interface DescribeModelInput {
  config: unknown;
  label?: string;
  tensors?: readonly TensorInfo[] | null;
  /** Where `tensors` come from (default "safetensors"). */
  tensorSource?: "safetensors" | "gguf";
  publishedParams?: number | null;
  /** Exact weight bytes when the files say (GGUF: block sizes of each ggml type). */
  weightBytes?: number | null;
}

function countBy<K extends string>(values: readonly K[]): Partial<Record<K, number>> {
  const counts: Partial<Record<K, number>> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Everything `servepilot inspect` reports about a model, from its config (+ tensor shapes). */
export function describeModel(input: DescribeModelInput): ModelDescription {
  const { architecture, warnings } = parseConfig(input.config, input.label ? { label: input.label } : {});
  const computed = countParams(architecture);
  let params: ModelDescription["params"] = {
    total: computed.total,
    active: computed.active,
    components: computed.components,
    mtp: computed.mtp,
    source: "architecture",
    fromArchitecture: computed.total,
    published: input.publishedParams ?? null,
  };
  if (input.tensors && input.tensors.length > 0) {
    const exact = countTensorParams(input.tensors, {
      numLayers: architecture.numLayers,
      packedBits: architecture.quantization?.weightBits ?? null,
    });
    const inactive = computed.total - computed.active;
    params = {
      ...params,
      total: exact.total,
      active: Math.max(
        0,
        Math.round(exact.total - inactive * (exact.components.experts / (computed.components.experts || 1))),
      ),
      components: exact.components,
      mtp: exact.mtp,
      source: input.tensorSource ?? "safetensors",
    };
    const drift = Math.abs(exact.total - computed.total) / exact.total;
    if (drift > 0.02) {
      warnings.push(
        `parameter count from ${input.tensorSource ?? "safetensors"} tensors (${exact.total}) differs from the architecture's (${computed.total}) by ${(drift * 100).toFixed(1)}%`,
      );
    }
  }
  const kvDtypeBytes = dtypeBytes(architecture.dtype);
  return {
    architecture,
    layerSummary: {
      attention: countBy(architecture.layers.map((layer) => layer.attention)),
      mlp: countBy(architecture.layers.map((layer) => layer.mlp)),
    },
    params,
    kvCache: { ...kvBytesPerToken(architecture, kvDtypeBytes), dtype: architecture.dtype ?? "bfloat16" },
    weightBytes: input.weightBytes ?? estimateWeightBytes(architecture, params.components),
    warnings,
  };
}
