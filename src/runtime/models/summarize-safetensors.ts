import type { Dtype, QuantizationConfig, SafetensorsFileHeader } from "@huggingface/hub";
import type { SafetensorsSummary, SafetensorsTensorInfo } from "./types.js";

export interface SafetensorsShard {
  /** File name relative to the model directory / repo root. */
  file: string;
  tensors: SafetensorsTensorInfo[];
}

function objectField(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === "object" && field !== null && !Array.isArray(field)
    ? (field as Record<string, unknown>)
    : undefined;
}

function stringField(value: unknown, key: string): string | undefined {
  const field =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === "string" ? field : undefined;
}

/** The quantization block that decides how packed weights count (top level, then text_config). */
function quantizationConfigOf(config: Record<string, unknown> | null): QuantizationConfig | undefined {
  const block =
    objectField(config, "quantization_config") ??
    objectField(config, "quantization") ??
    objectField(objectField(config, "text_config"), "quantization_config");
  return block as QuantizationConfig | undefined;
}

/**
 * Gathers shard headers into one summary. Parameter counts use @huggingface/hub's per-file counter,
 * the code the Hub's "safetensors.parameters" figures come from, shard by shard.
 */
export async function summarizeSafetensors(
  shards: readonly SafetensorsShard[],
  config: Record<string, unknown> | null,
): Promise<SafetensorsSummary> {
  // Loaded here, not at start-up: @huggingface/hub costs ~100 ms to import.
  const { computeNumOfParamsByDtypeSingleFile } = await import("@huggingface/hub");
  const quantConfig = quantizationConfigOf(config);
  const expertDtype =
    stringField(config, "expert_dtype") ?? stringField(objectField(config, "text_config"), "expert_dtype");
  const parameterCount: Record<string, number> = {};
  for (const shard of shards) {
    const header: SafetensorsFileHeader = {};
    for (const tensor of shard.tensors) {
      header[tensor.name] = { dtype: tensor.dtype as Dtype, shape: tensor.shape, data_offsets: [0, 0] };
    }
    const counts = computeNumOfParamsByDtypeSingleFile(header, quantConfig, expertDtype);
    for (const [dtype, count] of Object.entries(counts)) {
      parameterCount[dtype] = (parameterCount[dtype] ?? 0) + (count ?? 0);
    }
  }
  return {
    tensors: shards.flatMap((shard) => shard.tensors),
    parameterCount,
    files: shards.map((shard) => shard.file),
  };
}
