/**
 * What the gateway reads from and writes into OpenAI-shaped bodies: the error body
 * (`{"error": {"message", "type", "param", "code"}}`, as api.openai.com and vLLM answer), and the usage
 * object of a response or of a stream's usage chunk.
 */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAiError(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

export interface UsageFigures {
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** The usage of a parsed response or chunk; null when it carries none (`"usage": null` included). */
export function usageOf(body: unknown): UsageFigures | null {
  if (typeof body !== "object" || body === null) return null;
  const usage = (body as { usage?: unknown }).usage;
  if (typeof usage !== "object" || usage === null) return null;
  const u = usage as Record<string, unknown>;
  const details = u.prompt_tokens_details as Record<string, unknown> | null | undefined;
  return {
    promptTokens: count(u.prompt_tokens),
    completionTokens: count(u.completion_tokens),
    cachedTokens: count(details?.cached_tokens),
  };
}
