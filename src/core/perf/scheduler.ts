import { compareVersions } from "../engines/version.js";

/**
 * How an engine's scheduler fills one forward step, as far as the performance model needs it:
 * - "decode-first": every running request that is decoding gets its token first, then prompt chunks
 *   of admitted and waiting requests fill the rest of the token budget (continuous batching with
 *   chunked prefill: prefills share steps with decodes).
 * - "prefill-first": while prompts are waiting, a step prefills as many of them as the token budget
 *   holds and the running requests do not decode in that step (they resume once no prompt waits).
 */
export interface SchedulerPolicy {
  /** Short name for the assumptions list, e.g. "vLLM V1". */
  name: string;
  order: "decode-first" | "prefill-first";
  /** A prompt may be split across steps (chunked prefill). */
  chunked: boolean;
  /** Tokens one step computes at most (decode tokens + prompt tokens). */
  tokenBudget: number;
  /** The engine source the policy follows. */
  source: string;
}

export interface SchedulerContext {
  /** The model uses multi-head latent attention (DeepSeek V2/V3/R1, Kimi K2). */
  mla: boolean;
  maxNumBatchedTokens: number;
  maxModelLen: number;
}

const V1 = "0.8.0";

/**
 * The scheduler of a serving engine release. `engine` is the engine that ran (calibration rows name
 * TensorRT-LLM and MLPerf stacks too); `version` null means the newest release.
 */
export function schedulerPolicy(
  engine: string,
  version: string | null,
  ctx: SchedulerContext,
): SchedulerPolicy {
  switch (engine) {
    case "vllm": {
      if (version === null || !/^v?\d+\.\d+/.test(version) || compareVersions(version, V1) >= 0) {
        // vllm/v1/core/sched/scheduler.py (v0.8.0 on, the default engine) Scheduler.schedule: "First,
        // schedule the RUNNING requests" (decodes and unfinished prompt chunks, each capped by the
        // remaining token_budget = max_num_batched_tokens), "Next, schedule the WAITING requests" while
        // budget remains and len(running) < max_num_seqs.
        return {
          name: "vLLM V1",
          order: "decode-first",
          chunked: true,
          tokenBudget: ctx.maxNumBatchedTokens,
          source: "vllm/v1/core/sched/scheduler.py (v0.8.0+)",
        };
      }
      // vLLM V0 (before 0.8.0). vllm/config.py (v0.7.x VllmConfig.__post_init__): "MLA is enabled;
      // forcing chunked prefill and prefix caching to be disabled", max_num_batched_tokens =
      // max(max_model_len, 2048). vllm/engine/arg_utils.py (v0.6.x create_engine_config): "Chunked
      // prefill is enabled by default for models with max_model_len > 32K", and vllm/config.py
      // SchedulerConfig then logs "Chunked prefill is enabled with max_num_batched_tokens=512".
      if (!ctx.mla && ctx.maxModelLen > 32768) {
        // vllm/core/scheduler.py (v0.6.x) _schedule_chunked_prefill: running decodes first, then
        // prefills of waiting requests in the remaining budget.
        return {
          name: "vLLM V0 (chunked prefill)",
          order: "decode-first",
          chunked: true,
          tokenBudget: 512,
          source: "vllm/core/scheduler.py _schedule_chunked_prefill (v0.6.x)",
        };
      }
      // vllm/core/scheduler.py (v0.6.x/v0.7.x) _schedule_default: waiting prompts are scheduled first;
      // "if len(prefills.seq_groups) == 0" only then are the running requests decoded.
      return {
        name: "vLLM V0 (prefill first)",
        order: "prefill-first",
        chunked: false,
        tokenBudget: Math.max(ctx.maxModelLen, 2048),
        source: "vllm/core/scheduler.py _schedule_default (v0.6.x/v0.7.x)",
      };
    }
    case "sglang":
      // python/sglang/srt/managers/scheduler.py Scheduler.get_next_batch_to_run: new_batch =
      // get_new_batch_prefill(); "Run prefill first if possible", else decode the running batch. The
      // PrefillAdder continues the chunked request first, then admits waiting requests, cutting the
      // last one at chunked_prefill_size.
      return {
        name: "SGLang",
        order: "prefill-first",
        chunked: true,
        tokenBudget: ctx.maxNumBatchedTokens,
        source: "python/sglang/srt/managers/scheduler.py get_next_batch_to_run",
      };
    case "llamacpp":
      // tools/server/server.cpp update_slots: "first, add sampled tokens from any ongoing sequences",
      // then prompt tokens of slots that are processing their prompt, up to n_batch per decode call.
      return {
        name: "llama-server",
        order: "decode-first",
        chunked: true,
        tokenBudget: ctx.maxNumBatchedTokens,
        source: "tools/server/server.cpp update_slots",
      };
    default:
      // TensorRT-LLM cpp/tensorrt_llm/batch_manager/microBatchScheduler.cpp MicroBatchScheduler:
      // "Select the generation phase requests ... If there is any remaining space, include the
      // context requests and divide them into chunks" (max_num_tokens, 8192 by default).
      return {
        name: engine === "trtllm" ? "TensorRT-LLM in-flight batching" : "in-flight batching",
        order: "decode-first",
        chunked: true,
        tokenBudget: Math.max(ctx.maxNumBatchedTokens, 8192),
        source: "cpp/tensorrt_llm/batch_manager/microBatchScheduler.cpp",
      };
  }
}
