import { z } from "zod";

/**
 * Fractions of peak that an engine reaches on a GPU family, calibrated against published
 * measurements (data/calibration/perf.jsonl; `npm run eval:perf`). Entries live in
 * data/engines/perf-efficiency.yaml; the most specific match (engine + architecture, then engine,
 * then the default) wins.
 */
export const EfficiencySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
    engine: z.literal("perf"),
    /** "vllm" | "sglang" | "llamacpp" | "*" */
    servingEngine: z.string().min(1),
    /** GPU architecture ("hopper", "ampere", "cdna3", ...) or "*" */
    architecture: z.string().min(1),
    /** "dense", "moe" or "*": mixture-of-experts models run different kernels. */
    modelClass: z.enum(["dense", "moe", "*"]).default("*"),
    /** Share of peak memory bandwidth reached when streaming weights and KV in decode. */
    bandwidth: z.number().gt(0).lte(1),
    /** Share of peak dense tensor throughput in decode GEMMs (small batches). */
    decodeCompute: z.number().gt(0).lte(1),
    /** Share of peak dense tensor throughput in prefill (large GEMMs, attention). */
    prefillCompute: z.number().gt(0).lte(1),
    /** Share of the interconnect's bandwidth reached by all-reduce. */
    link: z.number().gt(0).lte(1),
    /** Fixed cost of one scheduler step (CPU scheduling, sampling, kernel launches), milliseconds. */
    stepOverheadMs: z.number().nonnegative(),
    /** Latency of one all-reduce, microseconds. */
    allReduceLatencyUs: z.number().nonnegative(),
    /** Extra slowdown of mixture-of-experts layers (grouped GEMMs, routing, uneven experts): times >= 1. */
    moeSlowdown: z.number().gte(1).default(1),
    source: z.string().min(1),
    notes: z.string().optional(),
  })
  .strict();

export type Efficiency = z.output<typeof EfficiencySchema>;

export { DEFAULT_EFFICIENCY, selectEfficiency } from "./select-efficiency.js";
