/**
 * Why a launch failed and what to do about it: the cause read from the engine's log (or its exit /
 * a timeout) and concrete fixes, computed by the planner where memory is the problem (the largest
 * max model length that fits, a lower memory utilization, more GPUs).
 */
import type { Plan, UserEngineSettings } from "../../core/plan/types.js";
import type { FailureEvent } from "../engines/log-events.js";
import { logLineMessage } from "../engines/log-line-text.js";
import type { InstanceEngine, InstanceFailure } from "./instance.js";

export interface DiagnoseInput {
  failure: FailureEvent | null;
  exit: { code: number | null; signal: string | null } | null;
  /** Seconds waited when the launch timed out, else null. */
  timedOutAfterSeconds: number | null;
  /** The furthest startup phase reached. */
  phase: string;
  /** What the last readiness probe of /health got (null: never probed). */
  lastHealth?: number | "refused" | "timeout" | null;
  engine: InstanceEngine;
  model: string;
  name: string;
  port: number;
  /** The plan the launch ran (null for the embedded engine). */
  plan: Plan | null;
  /** Plans the same configuration with settings changed. */
  replan: ((overrides: UserEngineSettings) => Plan | null) | null;
  /** A port free now, for the port-in-use fix. */
  freePort: number | null;
  hfTokenSet: boolean;
}

const MEMORY_CAUSES = new Set([
  "cuda-out-of-memory",
  "no-kv-cache-memory",
  "max-model-len-too-large",
  "insufficient-free-memory",
]);

export function diagnoseLaunchFailure(input: DiagnoseInput): InstanceFailure {
  const exitCode = input.exit?.code ?? null;
  const signal = input.exit?.signal ?? null;
  const failure = input.failure;
  if (failure !== null) {
    const message = logLineMessage(failure.message) || failure.message;
    return { cause: failure.cause, message, fixes: fixesFor(failure, input), exitCode, signal };
  }
  if (input.timedOutAfterSeconds !== null && input.lastHealth === "timeout") {
    return {
      cause: "timeout",
      message: `the engine did not become ready within ${input.timedOutAfterSeconds} s: it accepts connections on port ${input.port} but never answered /health (hung; last phase: ${input.phase})`,
      fixes: [
        `read the engine's log for where it stopped: servepilot logs ${input.name}`,
        "an engine that hangs at startup is often waiting on a GPU, a lock or a download: check nvidia-smi / amd-smi and the model cache",
      ],
      exitCode,
      signal,
    };
  }
  if (input.timedOutAfterSeconds !== null) {
    return {
      cause: "timeout",
      message: `the engine did not become ready within ${input.timedOutAfterSeconds} s (last phase: ${input.phase})`,
      fixes: [
        `give it longer with --timeout ${Math.ceil(input.timedOutAfterSeconds * 2)} (downloading and compiling a large model can take many minutes)`,
        `read the engine's log: servepilot logs ${input.name}`,
      ],
      exitCode,
      signal,
    };
  }
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode ?? "unknown"}`;
  return {
    cause: "exited",
    message: `the engine ${how} before it was ready (last phase: ${input.phase})`,
    fixes: [`read the engine's log: servepilot logs ${input.name}`],
    exitCode,
    signal,
  };
}

function fixesFor(failure: FailureEvent, input: DiagnoseInput): string[] {
  if (MEMORY_CAUSES.has(failure.cause)) return memoryFixes(failure, input);
  switch (failure.cause) {
    case "trust-remote-code-required":
      return [
        `${input.model} runs code from its repository: launch again with --trust-remote-code if you trust it`,
      ];
    case "hf-access-denied":
      return [
        `accept the model's terms at https://huggingface.co/${input.model} with your account`,
        input.hfTokenSet
          ? "HF_TOKEN is set but was refused: create a token with read access at https://huggingface.co/settings/tokens"
          : "set HF_TOKEN to a token with read access (https://huggingface.co/settings/tokens), then launch again",
      ];
    case "model-not-found":
      return [`check the model id: servepilot inspect ${input.model} (a private repo also needs HF_TOKEN)`];
    case "unsupported-architecture": {
      const archs = failure.architectures?.join(", ") ?? "this architecture";
      return [
        `the installed ${input.engine} does not know ${archs}: upgrade it, or use the engine release a recipe names (servepilot show-config ${input.model})`,
      ];
    }
    case "address-in-use":
      return [
        input.freePort !== null
          ? `port ${failure.port ?? input.port} is taken: launch again with --port ${input.freePort} (free now)`
          : `port ${failure.port ?? input.port} is taken: launch again with another --port`,
      ];
    default:
      return [`read the engine's log: servepilot logs ${input.name}`];
  }
}

function describeKv(plan: Plan): string {
  return `${plan.kvCache.tokens.toLocaleString("en-US")} KV tokens, ${plan.kvCache.maxConcurrency.toFixed(1)} requests of ${plan.config.maxModelLen.toLocaleString("en-US")} tokens at once`;
}

function memoryFixes(failure: FailureEvent, input: DiagnoseInput): string[] {
  const fixes: string[] = [];
  const plan = input.plan;
  const replan = input.replan;
  if (failure.estimatedMaxModelLen !== null && failure.estimatedMaxModelLen > 0) {
    const checked = replan?.({ maxModelLen: failure.estimatedMaxModelLen }) ?? null;
    fixes.push(
      `launch again with --max-model-len ${failure.estimatedMaxModelLen} (the engine's own estimate of what fits${checked?.fits ? `; the planner agrees: ${describeKv(checked)}` : ""})`,
    );
  }
  if (plan !== null && replan !== null) {
    const longest = largestFittingMaxModelLen(plan, replan);
    if (longest !== null && longest.config.maxModelLen !== failure.estimatedMaxModelLen) {
      fixes.push(
        `launch again with --max-model-len ${longest.config.maxModelLen} (the planner's largest that fits: ${describeKv(longest)})`,
      );
    }
    const utilization = plan.config.gpuMemoryUtilization;
    if (failure.cause !== "max-model-len-too-large" && utilization < 0.95) {
      const higher = Math.min(0.95, Math.round((utilization + 0.05) * 100) / 100);
      const raised = replan({ gpuMemoryUtilization: higher });
      if (raised?.fits && failure.cause === "no-kv-cache-memory") {
        fixes.push(`launch again with --gpu-memory-utilization ${higher} (${describeKv(raised)})`);
      }
    }
    if (failure.cause === "cuda-out-of-memory" || failure.cause === "insufficient-free-memory") {
      fixes.push(
        "another process may hold GPU memory: check with servepilot detect, stop it, then launch again",
      );
      if (!plan.config.enforceEager) {
        const eager = replan({ enforceEager: true });
        if (eager?.fits) {
          fixes.push(
            `or launch with --enforce-eager (no CUDA graphs: ${plan.memory.perGpu.cudaGraphGiB.toFixed(2)} GiB per GPU freed, slower decoding)`,
          );
        }
      }
    }
    for (const rec of plan.fits ? [] : plan.recommendations)
      fixes.push(`${rec.setting} ${rec.value}: ${rec.why}`);
  }
  if (fixes.length === 0) {
    fixes.push(
      `the model does not fit as configured: see servepilot plan ${input.model} for the memory breakdown, use more GPUs (--gpu-count) or a quantized checkpoint`,
    );
  }
  return fixes;
}

/**
 * The planned configuration with the largest max model length that fits, halving from half the
 * launched one (the launched length itself just failed, whatever the plan said).
 */
function largestFittingMaxModelLen(
  plan: Plan,
  replan: (overrides: UserEngineSettings) => Plan | null,
): Plan | null {
  let length = Math.floor(plan.config.maxModelLen / 2);
  for (let step = 0; step < 12 && length >= 256; step++) {
    const candidate = replan({ maxModelLen: length });
    if (candidate?.fits) return candidate;
    length = Math.floor(length / 2);
  }
  return null;
}
