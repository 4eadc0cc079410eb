/**
 * The planner's estimate for a benchmark's workload on the instance being measured: its model, engine
 * and GPUs (from the instance record), the benchmark's concurrency and lengths. Best effort: when the
 * model or the GPU cannot be resolved (offline, a custom GPU, the embedded engine) there is none,
 * with the reason.
 */
import type { BenchSettings } from "../../core/bench/settings.js";
import type { PlannedFigures } from "../../core/bench/summary.js";
import { isServepilotError } from "../../core/errors.js";
import type { EngineName } from "../../core/memory/types.js";
import { plan } from "../plan.js";
import type { InstanceRecord } from "../supervisor/instance.js";

export interface PlannedEstimate {
  figures: PlannedFigures | null;
  /** Why there is no estimate; null when there is one. */
  unavailable: string | null;
}

const PLANNED_ENGINES: readonly string[] = ["vllm", "sglang", "llamacpp"];

export async function plannedForInstance(
  record: Pick<InstanceRecord, "model" | "engine" | "gpus">,
  settings: BenchSettings,
  options: { dataDir?: string | null; env?: NodeJS.ProcessEnv } = {},
): Promise<PlannedEstimate> {
  if (!PLANNED_ENGINES.includes(record.engine)) {
    return {
      figures: null,
      unavailable: `the planner has no performance model for the ${record.engine} engine`,
    };
  }
  const gpu = record.gpus[0];
  if (gpu === undefined) return { figures: null, unavailable: "the instance records no GPU" };
  try {
    const planned = await plan(
      {
        model: record.model,
        gpu: gpu.name,
        gpus: record.gpus.length,
        engine: record.engine as EngineName,
        promptTokens: settings.promptTokens,
        genTokens: settings.outputTokens,
        concurrency: settings.concurrency,
        offline: true,
      },
      { dataDir: options.dataDir ?? null, ...(options.env ? { env: options.env } : {}) },
    );
    const perf = planned.performance;
    return {
      figures: {
        ttftMs: perf.ttftMs.expected,
        tpotMs: perf.tpotMs.expected,
        outputTokensPerSecond: perf.outputTokensPerSecond.expected,
      },
      unavailable: null,
    };
  } catch (error) {
    const message = isServepilotError(error) || error instanceof Error ? error.message : String(error);
    return { figures: null, unavailable: `no plan for ${record.model} on ${gpu.name}: ${message}` };
  }
}
