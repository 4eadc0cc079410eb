import { GGMLQuantizationType, type GGUFParseOutput, type MetadataValue } from "@huggingface/gguf";
import { ServepilotError } from "../../core/errors.js";
import type { GgufOmittedValue, GgufSummary, GgufTensorSummary } from "./types.js";

/** Per-layer arrays stay (a few hundred entries at most); token lists, scores and merges go. */
const MAX_KEPT_ARRAY_LENGTH = 1024;
/** Chat templates stay (tens of KiB); an embedded tokenizer.json does not. */
const MAX_KEPT_STRING_LENGTH = 256 * 1024;

const GGML_TYPE_NAMES = GGMLQuantizationType as unknown as Record<number, string | undefined>;

function toPlainValue(value: MetadataValue): unknown {
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === "string" && value.length > MAX_KEPT_STRING_LENGTH) {
    return { omitted: "string", length: value.length } satisfies GgufOmittedValue;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_KEPT_ARRAY_LENGTH)
      return { omitted: "array", length: value.length } satisfies GgufOmittedValue;
    return value.map((item) => toPlainValue(item));
  }
  return value;
}

function toTensor(info: GGUFParseOutput["tensorInfos"][number]): GgufTensorSummary {
  return {
    name: info.name,
    shape: info.shape.map((dim) => Number(dim)),
    ggmlType: GGML_TYPE_NAMES[info.dtype] ?? `UNKNOWN_${info.dtype}`,
  };
}

/**
 * One GgufSummary from the parsed shard(s) of a model: the KV metadata of the first shard (the
 * others repeat it or carry only split.* keys) and the tensors of all shards.
 */
export function summarizeGguf(
  shards: ReadonlyArray<Pick<GGUFParseOutput, "metadata" | "tensorInfos">>,
  fileSizeBytes: number | null,
  label: string,
): GgufSummary {
  const first = shards[0];
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first?.metadata ?? {})) {
    metadata[key] = toPlainValue(value as MetadataValue);
  }
  const architecture = metadata["general.architecture"];
  if (typeof architecture !== "string" || architecture.length === 0) {
    throw new ServepilotError("INVALID_MODEL_CONFIG", `${label}: GGUF metadata has no general.architecture`, {
      details: { file: label },
    });
  }
  return {
    architecture,
    metadata,
    tensors: shards.flatMap((shard) => shard.tensorInfos.map(toTensor)),
    fileSizeBytes,
  };
}
