import type { Architecture } from "./architecture.js";
import type { ParamComponents } from "./count-params.js";

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  float: 4,
  bfloat16: 2,
  float16: 2,
  half: 2,
};

/** Bytes per element of a checkpoint dtype name ("bfloat16" -> 2); 2 when unknown. */
export function dtypeBytes(dtype: string | null): number {
  return (dtype && DTYPE_BYTES[dtype.toLowerCase()]) || 2;
}

/**
 * Checkpoint weight bytes: quantized components at the scheme's bytes per weight (scales and zero
 * points included), the rest (embeddings, lm_head, norms, routers, vision tower) at the checkpoint
 * dtype — the modules AWQ, GPTQ, fp8, compressed-tensors and mxfp4 checkpoints leave unquantized.
 */
export function estimateWeightBytes(arch: Architecture, components: ParamComponents): number {
  const base = dtypeBytes(arch.dtype);
  const q = arch.quantization;
  const quantized: Array<keyof ParamComponents> =
    q === null
      ? []
      : q.appliesTo === "experts"
        ? ["experts"]
        : ["attention", "mlp", "experts", "sharedExperts"];
  let bytes = 0;
  for (const [name, params] of Object.entries(components) as Array<[keyof ParamComponents, number]>) {
    bytes += params * (q && quantized.includes(name) ? q.bytesPerWeight : base);
  }
  return Math.round(bytes);
}
