import { ServepilotError } from "../errors.js";

const DTYPES: Readonly<Record<string, string>> = {
  auto: "auto",
  bf16: "bfloat16",
  bfloat16: "bfloat16",
  fp16: "float16",
  float16: "float16",
  half: "float16",
  fp32: "float32",
  float32: "float32",
  float: "float32",
};

const KV_DTYPES: Readonly<Record<string, string>> = {
  auto: "auto",
  fp8: "fp8",
  fp8_e4m3: "fp8_e4m3",
  fp8_e4m3fn: "fp8_e4m3",
  fp8_e5m2: "fp8_e5m2",
  bf16: "bfloat16",
  bfloat16: "bfloat16",
  fp16: "float16",
  float16: "float16",
};

/** Quantization methods the planner can model; checkpoint methods must match the checkpoint. */
export const QUANTIZATIONS = [
  "none",
  "fp8",
  "awq",
  "gptq",
  "compressed-tensors",
  "mxfp4",
  "bitsandbytes",
] as const;

function normalize(table: Readonly<Record<string, string>>, value: string, flag: string): string {
  const found = table[value.trim().toLowerCase()];
  if (!found) {
    const valid = [...new Set(Object.keys(table))].join(", ");
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${flag} must be one of ${valid}; got ${JSON.stringify(value)}`,
    );
  }
  return found;
}

/** `--dtype` in the engine's spelling (bf16 -> bfloat16, fp16 -> float16). */
export function normalizeDtype(value: string): string {
  return normalize(DTYPES, value, "--dtype");
}

/** `--kv-cache-dtype` in the engine's spelling (fp8_e4m3fn, which vLLM rejects, is read as fp8_e4m3). */
export function normalizeKvCacheDtype(value: string): string {
  return normalize(KV_DTYPES, value, "--kv-cache-dtype");
}

/**
 * `--quantization`: "none" clears it; "fp8" is online FP8 for an unquantized checkpoint (or the
 * checkpoint's own fp8); any other method must be the checkpoint's.
 */
export function normalizeQuantization(
  value: string,
  checkpointMethod: string | null,
  modelId: string,
): string | null {
  const method = value.trim().toLowerCase();
  if (!(QUANTIZATIONS as readonly string[]).includes(method)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--quantization must be one of ${QUANTIZATIONS.join(", ")}; got ${JSON.stringify(value)}`,
    );
  }
  if (method === "none") {
    if (checkpointMethod) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `--quantization none: ${modelId} is a ${checkpointMethod} checkpoint; its weights are quantized`,
      );
    }
    return null;
  }
  if (checkpointMethod) {
    if (method !== checkpointMethod && !(method === "fp8" && checkpointMethod === "compressed-tensors")) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `--quantization ${method} does not match ${modelId}, a ${checkpointMethod} checkpoint (leave --quantization out: vLLM detects it)`,
      );
    }
    return checkpointMethod;
  }
  if (method !== "fp8") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--quantization ${method} needs a ${method} checkpoint; ${modelId} is not quantized`,
      {
        hint: "pick a pre-quantized repo (e.g. an -AWQ or -GPTQ one), or use --quantization fp8 for online FP8",
      },
    );
  }
  return "fp8";
}
