/**
 * The studio's own calls to its gateway for chats: a streamed chat completion read chunk by chunk
 * (content, reasoning_content and tool_call deltas merged), and a plain one for titles.
 */
import { randomUUID } from "node:crypto";
import { eventData, SseEventSplitter } from "../../core/gateway/sse-events.js";
import { CHAT_SESSION_HEADER, internalGatewayHeaders, type StudioContext } from "../context.js";
import { GATEWAY_BODY_LIMIT } from "../gateway/proxy.js";
import type { ToolCall } from "./store.js";

export interface UpstreamUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
}

export interface StreamHandlers {
  onContent(text: string): void;
  onReasoning(text: string): void;
}

export interface StreamedReply {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage: UpstreamUsage | null;
  requestId: string;
}

/** An upstream answer that was not a 2xx: its status and the gateway's OpenAI error message. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  get code(): string {
    if (this.status === 404) return "MODEL_NOT_FOUND";
    if (this.status === 401 || this.status === 403) return "UNAUTHORIZED";
    if (this.status === 429) return "RATE_LIMITED";
    if (this.status === 400 || this.status === 413 || this.status === 422) return "INVALID_ARGUMENT";
    return "NETWORK_ERROR";
  }
}

/**
 * Chats always ask the gateway to move `<think>…</think>` into reasoning (x-servepilot-reasoning), so
 * the chat shows a reasoning model's thoughts apart even when its engine runs without a reasoning parser.
 */
function headersFor(ctx: StudioContext, sessionId: string, requestId: string): Record<string, string> {
  return {
    ...internalGatewayHeaders(ctx),
    [CHAT_SESSION_HEADER]: sessionId,
    "x-request-id": requestId,
    "x-servepilot-reasoning": "normalize",
  };
}

async function failure(response: Response): Promise<UpstreamError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 500) || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const inner = typeof body.error === "object" ? body.error?.message : body.error;
    if (typeof inner === "string") message = inner;
    else if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON
  }
  return new UpstreamError(response.status, `the gateway answered ${response.status}: ${message}`);
}

/**
 * The JSON body of a request to the gateway. One over its body limit is refused here with the reason:
 * the gateway would answer 413 while the body still uploads, which reads as a dropped connection.
 */
function gatewayBody(body: Record<string, unknown>): string {
  const text = JSON.stringify(body);
  const bytes = Buffer.byteLength(text);
  if (bytes > GATEWAY_BODY_LIMIT) {
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    throw new UpstreamError(
      413,
      `the chat's history is ${mib(bytes)} MiB, over the ${mib(GATEWAY_BODY_LIMIT)} MiB a request to the gateway carries; fork the chat from a later message to go on`,
    );
  }
  return text;
}

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

/** POSTs a streamed chat completion to the gateway and reads it to the end. */
export async function streamCompletion(
  ctx: StudioContext,
  sessionId: string,
  body: Record<string, unknown>,
  handlers: StreamHandlers,
  signal: AbortSignal,
): Promise<StreamedReply> {
  const sentId = randomUUID();
  const response = await fetch(`${ctx.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: headersFor(ctx, sessionId, sentId),
    body: gatewayBody({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal,
  });
  if (!response.ok || response.body === null) throw await failure(response);
  const reply: StreamedReply = {
    content: "",
    reasoning: "",
    toolCalls: [],
    finishReason: null,
    usage: null,
    requestId: response.headers.get("x-request-id") ?? sentId,
  };
  const calls = new Map<number, ToolCall>();
  const decoder = new TextDecoder();
  const splitter = new SseEventSplitter();
  let done = false;

  const handleData = (data: string) => {
    if (data === "[DONE]") {
      done = true;
      return;
    }
    let chunk: {
      choices?: Array<{
        delta?: {
          content?: unknown;
          reasoning_content?: unknown;
          reasoning?: unknown;
          tool_calls?: ToolCallDelta[];
        };
        finish_reason?: string | null;
      }>;
      usage?: {
        prompt_tokens?: number;
        completion_tokens?: number;
        prompt_tokens_details?: { cached_tokens?: number } | null;
      } | null;
      error?: { message?: string };
    };
    try {
      chunk = JSON.parse(data);
    } catch {
      return;
    }
    if (chunk.error) throw new UpstreamError(502, chunk.error.message ?? "the model failed mid-stream");
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta ?? {};
      const reasoning =
        typeof delta.reasoning_content === "string"
          ? delta.reasoning_content
          : typeof delta.reasoning === "string"
            ? delta.reasoning
            : "";
      if (reasoning) {
        reply.reasoning += reasoning;
        handlers.onReasoning(reasoning);
      }
      if (typeof delta.content === "string" && delta.content !== "") {
        reply.content += delta.content;
        handlers.onContent(delta.content);
      }
      for (const part of delta.tool_calls ?? []) {
        const index = part.index ?? calls.size;
        const call = calls.get(index) ?? {
          id: "",
          type: "function" as const,
          function: { name: "", arguments: "" },
        };
        if (part.id) call.id = part.id;
        if (part.function?.name) call.function.name += part.function.name;
        if (part.function?.arguments) call.function.arguments += part.function.arguments;
        calls.set(index, call);
      }
      if (choice.finish_reason) reply.finishReason = choice.finish_reason;
    }
    if (chunk.usage) {
      reply.usage = {
        promptTokens: chunk.usage.prompt_tokens ?? null,
        completionTokens: chunk.usage.completion_tokens ?? null,
        cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? null,
      };
    }
  };

  const reader = response.body.getReader();
  try {
    while (!done) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      for (const event of splitter.push(decoder.decode(value, { stream: true }))) {
        const data = eventData(event);
        if (data) handleData(data);
        if (done) break;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  reply.toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, call]) => ({ ...call, id: call.id || `call-${index}-${randomUUID().slice(0, 8)}` }));
  return reply;
}

/** A plain (not streamed) completion's message text, for titles. */
export async function plainCompletion(
  ctx: StudioContext,
  sessionId: string,
  body: Record<string, unknown>,
  signal: AbortSignal,
): Promise<string> {
  const response = await fetch(`${ctx.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: headersFor(ctx, sessionId, randomUUID()),
    body: gatewayBody({ ...body, stream: false }),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const json = (await response.json()) as { choices?: Array<{ message?: { content?: unknown } }> };
  const content = json.choices?.[0]?.message?.content;
  return typeof content === "string" ? content : "";
}

/** A model's answer as a title: no think block, no quotes or markup, one line, at most 60 characters. */
export function cleanTitle(raw: string, max = 60): string {
  let text = raw.replace(/<think>[\s\S]*?<\/think>/gi, "");
  text = text.replace(/<think>[\s\S]*$/i, "").replace(/<\/?think>/gi, "");
  const line =
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? "";
  let title = line
    .replace(/^#+\s*/, "")
    .replace(/^(?:\*\*)?title(?:\*\*)?\s*:\s*/i, "")
    .replace(/[*_`]/g, "")
    .replace(/["“”„«»]/g, "")
    .replace(/^'+|'+$/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.:;,]+$/, "")
    .trim();
  if (title.length > max) {
    const cut = title.slice(0, max + 1);
    const space = cut.lastIndexOf(" ");
    title = (space >= max / 2 ? cut.slice(0, space) : title.slice(0, max)).replace(/[\s.,:;-]+$/, "");
  }
  return title;
}
