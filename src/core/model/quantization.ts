import type { QuantizationSpec } from "./architecture.js";
import { type ConfigReader, isConfigObject } from "./config-reader.js";

/**
 * Reads `quantization_config` of a pre-quantized checkpoint. Storage costs follow the tensors each
 * format writes:
 * - AWQ (vllm/model_executor/layers/quantization/awq.py): qweight packs 32/bits weights per int32,
 *   qzeros packs zero points the same way per group, scales are fp16 per group and output column.
 * - GPTQ (quantization/gptq.py): same packing; qzeros are stored even for symmetric checkpoints; g_idx
 *   is one int32 per input row (negligible, not counted).
 * - compressed-tensors (quantization/compressed_tensors/): weight_packed (int4) or int8/fp8 weights
 *   with per-channel / per-group / per-block scales.
 * - fp8 (quantization/fp8.py): fp8 weights, fp32 weight_scale_inv per 128x128 block (or per tensor).
 * - mxfp4 (quantization/mxfp4.py): 4-bit blocks of 32 with one 8-bit shared exponent: 4.25 bits.
 * - bitsandbytes (quantization/bitsandbytes.py): nf4/fp4 with an fp32 absmax per 64 weights (double
 *   quantization stores it in 8 bits plus one fp32 per 256 blocks).
 */
export function parseQuantization(reader: ConfigReader | null, warnings: string[]): QuantizationSpec | null {
  if (!reader) return null;
  const method = (reader.optionalString("quant_method") ?? "").toLowerCase();
  switch (method) {
    case "awq":
    case "awq_marlin":
      return readAwqOrGptq(reader, "awq");
    case "gptq":
    case "gptq_marlin":
      return readAwqOrGptq(reader, "gptq");
    case "compressed-tensors":
      return readCompressedTensors(reader, warnings);
    case "fp8":
      return readFp8(reader);
    case "mxfp4":
      return {
        method: "mxfp4",
        scheme: "mxfp4",
        weightBits: 4,
        groupSize: 32,
        activationBits: null,
        zeroPoint: false,
        bytesPerWeight: 0.5 + 1 / 32,
        unquantizedModules: reader.stringArray("modules_to_not_convert") ?? [],
        appliesTo: "experts",
      };
    case "bitsandbytes":
      return readBitsAndBytes(reader);
    default:
      warnings.push(
        `${reader.label}: quantization_config.quant_method ${JSON.stringify(method || null)} is not modelled; weights are counted at the checkpoint dtype`,
      );
      return null;
  }
}

function readAwqOrGptq(reader: ConfigReader, method: "awq" | "gptq"): QuantizationSpec {
  const bits = reader.optionalIntOneOf(["bits", "w_bit"]) ?? 4;
  const rawGroup = reader.raw.group_size ?? reader.raw.q_group_size;
  const groupSize = typeof rawGroup === "number" && rawGroup > 0 ? rawGroup : null;
  const zeroPoint = method === "gptq" ? true : reader.bool("zero_point", true);
  const perGroupBytes = 2 + (zeroPoint ? bits / 8 : 0);
  return {
    method,
    scheme: `w${bits}a16`,
    weightBits: bits,
    groupSize,
    activationBits: null,
    zeroPoint,
    bytesPerWeight: bits / 8 + (groupSize ? perGroupBytes / groupSize : 0),
    unquantizedModules: reader.stringArray("modules_to_not_convert") ?? [],
    appliesTo: "linear",
  };
}

function readFp8(reader: ConfigReader): QuantizationSpec {
  const block = reader.intArray("weight_block_size");
  const blockElems = block && block.length === 2 ? (block[0] ?? 1) * (block[1] ?? 1) : null;
  return {
    method: "fp8",
    scheme: blockElems ? "fp8-block" : "fp8",
    weightBits: 8,
    groupSize: blockElems,
    activationBits: 8,
    zeroPoint: false,
    bytesPerWeight: 1 + (blockElems ? 4 / blockElems : 0),
    unquantizedModules:
      reader.stringArray("modules_to_not_convert") ?? reader.stringArray("ignored_layers") ?? [],
    appliesTo: "linear",
  };
}

function readBitsAndBytes(reader: ConfigReader): QuantizationSpec {
  const fourBit = reader.bool("load_in_4bit", false);
  const skip = reader.stringArray("llm_int8_skip_modules") ?? [];
  if (!fourBit) {
    return {
      method: "bitsandbytes",
      scheme: "int8",
      weightBits: 8,
      groupSize: null,
      activationBits: null,
      zeroPoint: false,
      bytesPerWeight: 1,
      unquantizedModules: skip,
      appliesTo: "linear",
    };
  }
  const doubleQuant = reader.bool("bnb_4bit_use_double_quant", false);
  return {
    method: "bitsandbytes",
    scheme: reader.optionalString("bnb_4bit_quant_type") ?? "fp4",
    weightBits: 4,
    groupSize: 64,
    activationBits: null,
    zeroPoint: false,
    bytesPerWeight: 0.5 + (doubleQuant ? 1 / 64 + 4 / (64 * 256) : 4 / 64),
    unquantizedModules: skip,
    appliesTo: "linear",
  };
}

function readCompressedTensors(reader: ConfigReader, warnings: string[]): QuantizationSpec | null {
  const groups = reader.object("config_groups");
  const first = groups ? Object.values(groups.raw).find(isConfigObject) : undefined;
  const weights = first && isConfigObject(first.weights) ? first.weights : null;
  if (!weights) {
    warnings.push(
      `${reader.label}: quantization_config.config_groups has no weights scheme; counted unquantized`,
    );
    return null;
  }
  const bits = typeof weights.num_bits === "number" ? weights.num_bits : 8;
  const isFloat = weights.type === "float";
  const acts = first && isConfigObject(first.input_activations) ? first.input_activations : null;
  const actBits = acts && typeof acts.num_bits === "number" ? acts.num_bits : null;
  const strategy = typeof weights.strategy === "string" ? weights.strategy : "tensor";
  const symmetric = weights.symmetric !== false;
  const blockStructure = Array.isArray(weights.block_structure) ? weights.block_structure : null;
  let groupSize: number | null = null;
  let scaleBytesPerWeight = 0;
  if (strategy === "group" && typeof weights.group_size === "number" && weights.group_size > 0) {
    groupSize = weights.group_size;
    // bf16 scale per group, plus a packed zero point for asymmetric schemes
    scaleBytesPerWeight = (2 + (symmetric ? 0 : bits / 8)) / groupSize;
  } else if (strategy === "block" && blockStructure?.length === 2) {
    groupSize = Number(blockStructure[0]) * Number(blockStructure[1]);
    scaleBytesPerWeight = 4 / groupSize;
  }
  const kind = isFloat ? "fp" : "int";
  const scheme = actBits
    ? `w${bits}a${actBits}-${isFloat ? "fp8" : "int8"}`
    : `w${bits}a16${isFloat ? `-${kind}${bits}` : ""}`;
  return {
    method: "compressed-tensors",
    scheme,
    weightBits: bits,
    groupSize,
    activationBits: actBits,
    zeroPoint: !symmetric,
    bytesPerWeight: bits / 8 + scaleBytesPerWeight,
    unquantizedModules: reader.stringArray("ignore") ?? [],
    appliesTo: "linear",
  };
}
