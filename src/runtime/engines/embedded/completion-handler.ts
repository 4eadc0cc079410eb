/**
 * POST /v1/chat/completions and /v1/completions once the body is valid: builds the prompt, runs the
 * generation, and answers as one JSON body or as server-sent events. As in llama-server, an error
 * before the first token is an ordinary JSON error response, even for a stream; a client that
 * disconnects aborts its generation, which frees its sequence for the next request in line.
 */
import type { ServerResponse } from "node:http";
import {
  ContextSizeExceededError,
  type EmbeddedEngine,
  type GenerationResult,
  InvalidTokenError,
  type PromptInput,
} from "./llama-engine.js";
import type { ChatCompletionRequest, TextCompletionRequest } from "./openai-request.js";
import {
  type CompletionOutcome,
  completionResponse,
  contentChunk,
  errorBody,
  finalChunks,
  newCompletionIdentity,
  SSE_DONE,
  sseData,
  timingsOf,
  usageOf,
} from "./openai-response.js";

export type CompletionRequest =
  | { kind: "chat"; request: ChatCompletionRequest }
  | { kind: "text"; request: TextCompletionRequest };

export interface CompletionDeps {
  engine: EmbeddedEngine;
  /** The served model name, answered in every response whatever name the client sent. */
  alias: string;
  /** Registers a running request so a shutdown can abort it; returns the unregister function. */
  track(controller: AbortController): () => void;
}

export async function handleCompletion(
  deps: CompletionDeps,
  completion: CompletionRequest,
  res: ServerResponse,
): Promise<void> {
  const { kind, request } = completion;
  let prompt: PromptInput;
  try {
    prompt =
      completion.kind === "chat"
        ? deps.engine.chatPrompt(completion.request.messages)
        : deps.engine.textPrompt(completion.request.prompt);
  } catch (error) {
    const status = error instanceof InvalidTokenError ? 400 : 500;
    sendJson(
      res,
      status,
      errorBody(status, errorMessage(error), status === 400 ? "invalid_request_error" : "server_error"),
    );
    return;
  }

  const controller = new AbortController();
  const untrack = deps.track(controller);
  res.on("close", () => {
    if (!res.writableFinished) controller.abort(new Error("the client closed the connection"));
  });
  const identity = newCompletionIdentity(kind, deps.alias);
  let streamOpen = false;
  const openStream = () => {
    if (streamOpen) return;
    streamOpen = true;
    res.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
    });
    if (kind === "chat") res.write(sseData(contentChunk(kind, identity, null, { role: true })));
  };
  const onText = request.stream
    ? (delta: string) => {
        openStream();
        res.write(sseData(contentChunk(kind, identity, delta)));
      }
    : () => {};

  try {
    const result = await deps.engine.generate(prompt, request.sampling, onText, controller.signal);
    if (controller.signal.aborted) throw controller.signal.reason;
    const outcome = outcomeOf(result);
    if (!request.stream) {
      sendJson(res, 200, completionResponse(kind, identity, outcome));
      return;
    }
    openStream();
    for (const chunk of finalChunks(kind, identity, outcome, request.includeUsage)) res.write(sseData(chunk));
    res.end(SSE_DONE);
  } catch (error) {
    if (res.destroyed) return;
    const body =
      error instanceof ContextSizeExceededError
        ? errorBody(400, error.message, "exceed_context_size_error", {
            n_prompt_tokens: error.promptTokens,
            n_ctx: error.contextTokens,
          })
        : error instanceof InvalidTokenError
          ? errorBody(400, error.message, "invalid_request_error")
          : controller.signal.aborted
            ? errorBody(503, "the server is shutting down", "unavailable_error")
            : errorBody(500, errorMessage(error), "server_error");
    if (streamOpen) res.end(sseData(body));
    else sendJson(res, body.error.code as number, body);
  } finally {
    untrack();
  }
}

function outcomeOf(result: GenerationResult): CompletionOutcome {
  return {
    text: result.text,
    finishReason: result.finishReason,
    usage: usageOf(result.promptTokens, result.completionTokens),
    timings: timingsOf(
      { tokens: result.promptTokensDecoded, ms: result.promptMs },
      { tokens: result.completionTokens, ms: result.predictedMs },
    ),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
