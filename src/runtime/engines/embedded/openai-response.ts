/**
 * Response bodies and stream chunks shaped like llama-server's OpenAI-compatible ones
 * (tools/server/server-task.cpp, to_json_oaicompat*): a chat stream opens with a delta holding only
 * the role, sends content deltas, ends with an empty delta carrying finish_reason. Usage: with
 * stream_options.include_usage, a last chunk with empty `choices` (the OpenAI spec); without it,
 * on the finish chunk (as llama-server did before include_usage) — either way exactly one chunk.
 */
import { randomBytes } from "node:crypto";

export type FinishReason = "stop" | "length";
export type CompletionKind = "chat" | "text";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** llama-server's `timings` object (prompt_n counts only the prompt tokens decoded, not reused ones). */
export interface Timings {
  prompt_n: number;
  prompt_ms: number;
  prompt_per_token_ms: number;
  prompt_per_second: number;
  predicted_n: number;
  predicted_ms: number;
  predicted_per_token_ms: number;
  predicted_per_second: number;
}

export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export interface CompletionOutcome {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  timings: Timings;
}

export function newCompletionIdentity(
  kind: CompletionKind,
  model: string,
  now = Date.now(),
): CompletionIdentity {
  const prefix = kind === "chat" ? "chatcmpl-" : "cmpl-";
  return { id: `${prefix}${randomBytes(12).toString("hex")}`, created: Math.floor(now / 1000), model };
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

export function timingsOf(
  prompt: { tokens: number; ms: number },
  predicted: { tokens: number; ms: number },
): Timings {
  const perToken = (ms: number, n: number) => (n > 0 ? ms / n : 0);
  const perSecond = (ms: number, n: number) => (ms > 0 ? (1000 * n) / ms : 0);
  return {
    prompt_n: prompt.tokens,
    prompt_ms: prompt.ms,
    prompt_per_token_ms: perToken(prompt.ms, prompt.tokens),
    prompt_per_second: perSecond(prompt.ms, prompt.tokens),
    predicted_n: predicted.tokens,
    predicted_ms: predicted.ms,
    predicted_per_token_ms: perToken(predicted.ms, predicted.tokens),
    predicted_per_second: perSecond(predicted.ms, predicted.tokens),
  };
}

/** The non-streamed response. */
export function completionResponse(
  kind: CompletionKind,
  identity: CompletionIdentity,
  outcome: CompletionOutcome,
): Record<string, unknown> {
  const choice =
    kind === "chat"
      ? {
          index: 0,
          message: { role: "assistant", content: outcome.text },
          logprobs: null,
          finish_reason: outcome.finishReason,
        }
      : { index: 0, text: outcome.text, logprobs: null, finish_reason: outcome.finishReason };
  return {
    id: identity.id,
    object: kind === "chat" ? "chat.completion" : "text_completion",
    created: identity.created,
    model: identity.model,
    choices: [choice],
    usage: outcome.usage,
    timings: outcome.timings,
  };
}

/** A stream chunk: a content delta (chat: the opening role delta when `role` is set), or text. */
export function contentChunk(
  kind: CompletionKind,
  identity: CompletionIdentity,
  content: string | null,
  options: { role?: boolean } = {},
): Record<string, unknown> {
  const choice =
    kind === "chat"
      ? {
          index: 0,
          delta: options.role ? { role: "assistant", content } : { content },
          logprobs: null,
          finish_reason: null,
        }
      : { index: 0, text: content ?? "", logprobs: null, finish_reason: null };
  return chunkEnvelope(kind, identity, [choice]);
}

/** The closing chunks of a stream: the finish chunk, then the usage chunk when asked for. */
export function finalChunks(
  kind: CompletionKind,
  identity: CompletionIdentity,
  outcome: CompletionOutcome,
  includeUsage: boolean,
): Array<Record<string, unknown>> {
  const choice =
    kind === "chat"
      ? { index: 0, delta: {}, logprobs: null, finish_reason: outcome.finishReason }
      : { index: 0, text: "", logprobs: null, finish_reason: outcome.finishReason };
  const finish = chunkEnvelope(kind, identity, [choice]);
  if (!includeUsage) return [{ ...finish, usage: outcome.usage, timings: outcome.timings }];
  return [finish, { ...chunkEnvelope(kind, identity, []), usage: outcome.usage, timings: outcome.timings }];
}

function chunkEnvelope(
  kind: CompletionKind,
  identity: CompletionIdentity,
  choices: unknown[],
): Record<string, unknown> {
  return {
    id: identity.id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: identity.created,
    model: identity.model,
    choices,
  };
}

/** One server-sent event line as llama-server writes it. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";

export type OpenAiErrorType =
  | "invalid_request_error"
  | "exceed_context_size_error"
  | "not_found_error"
  | "unavailable_error"
  | "server_error";

/** llama-server's error body (format_error_response): { error: { code, message, type } }. */
export function errorBody(
  code: number,
  message: string,
  type: OpenAiErrorType,
  extra: Record<string, unknown> = {},
): { error: Record<string, unknown> } {
  return { error: { code, message, type, ...extra } };
}
