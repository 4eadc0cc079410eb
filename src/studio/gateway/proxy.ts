/**
 * One gateway request forwarded to its engine. Streams pass through as the engine's own bytes, event by
 * event as they complete, with backpressure (a slow client pauses the engine's socket); the event JSON
 * is decoded only where a feature needs it: the usage chunk (read, and dropped when the gateway asked
 * for it on the client's behalf) and, with reasoning normalisation, chunks that carry content.
 * A client that disconnects destroys the upstream request, which the engines take as an abort (vLLM,
 * SGLang and llama-server all stop generating for a closed connection).
 */
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { type OpenAiErrorBody, openAiError, type UsageFigures, usageOf } from "../../core/gateway/openai.js";
import { eventData, SseEventSplitter } from "../../core/gateway/sse-events.js";
import { splitThink, ThinkSplitter } from "../../core/gateway/think-splitter.js";
import type { RouteTarget } from "./routing.js";

/** Connections to engines are kept alive: a new TCP connection per request would dominate the overhead. */
const agent = new Agent({ keepAlive: true, maxSockets: 4096, maxFreeSockets: 256, scheduling: "lifo" });

/** The largest request body the gateway takes: bodies may carry images (base64) for vision-language models. */
export const GATEWAY_BODY_LIMIT = 32 * 1024 * 1024;

/** The largest non-streamed response body the gateway buffers (embeddings of big batches fit). */
const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export interface ForwardRequest {
  target: RouteTarget;
  /** Upstream path (/v1/chat/completions, /tokenize …). */
  path: string;
  body: Record<string, unknown>;
  /** The gateway added stream_options.include_usage: drop the usage chunk before the client sees it. */
  injectedUsage: boolean;
  normalizeReasoning: boolean;
  timeoutMs: number;
  requestId: string;
  /** Headers the studio already set for this reply (request id, CORS). */
  replyHeaders: Record<string, string | number | string[]>;
}

export interface ForwardOutcome {
  status: number;
  error: string | null;
  usage: UsageFigures | null;
  ttftMs: number | null;
}

const TEXT_FIELD = /"(?:content|reasoning_content|reasoning|text)":"(?!")/;

function headerRecord(headers: Record<string, string | number | string[] | undefined>) {
  const out: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number | string[]>,
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** The error message of an engine's error body (OpenAI's shape, or vLLM's flat `{"object": "error"}`). */
function errorMessageOf(json: unknown): string | null {
  if (typeof json !== "object" || json === null) return null;
  const j = json as { error?: unknown; message?: unknown; object?: unknown };
  if (typeof j.error === "object" && j.error !== null) {
    const message = (j.error as { message?: unknown }).message;
    return typeof message === "string" ? message : JSON.stringify(j.error);
  }
  if (typeof j.error === "string") return j.error;
  if (j.object === "error" && typeof j.message === "string") return j.message;
  return null;
}

export function forward(
  request: ForwardRequest,
  res: ServerResponse,
  now: () => number = () => performance.now(),
): Promise<ForwardOutcome> {
  const started = now();
  const payload = Buffer.from(JSON.stringify(request.body));
  const outcome: ForwardOutcome = { status: 0, error: null, usage: null, ttftMs: null };
  const target = request.target;

  return new Promise((resolve) => {
    let settled = false;
    let clientGone = false;
    const settle = (status: number, error: string | null) => {
      if (settled) return;
      settled = true;
      outcome.status = status;
      outcome.error = error;
      resolve(outcome);
    };

    const upstream = httpRequest({
      host: target.host,
      port: target.port,
      method: "POST",
      path: request.path,
      agent,
      headers: {
        "content-type": "application/json",
        "content-length": payload.length,
        accept: request.body.stream === true ? "text/event-stream" : "application/json",
        "x-request-id": request.requestId,
      },
    });
    // 0: no limit
    const headerTimer =
      request.timeoutMs > 0
        ? setTimeout(() => {
            upstream.destroy(
              new Error(`no response from the engine within ${Math.round(request.timeoutMs / 1000)} s`),
            );
          }, request.timeoutMs).unref()
        : undefined;

    res.on("close", () => {
      if (settled || res.writableFinished) return;
      clientGone = true;
      upstream.destroy();
      settle(499, "the client closed the connection");
    });

    upstream.on("error", (error: Error & { code?: string }) => {
      clearTimeout(headerTimer);
      if (clientGone || settled) return;
      const timedOut = error.message.startsWith("no response from the engine");
      const message = timedOut
        ? `instance ${target.instance}: ${error.message}`
        : `instance ${target.instance} (${target.host}:${target.port}) is unreachable: ${error.code ?? error.message}`;
      if (!res.headersSent) {
        const status = timedOut ? 504 : 502;
        sendJson(
          res,
          status,
          openAiError(
            message,
            timedOut ? "timeout" : "server_error",
            timedOut ? "upstream_timeout" : "upstream_unreachable",
          ),
          request.replyHeaders,
        );
        settle(status, message);
        return;
      }
      endStreamWithError(res, message);
      settle(502, message);
    });

    upstream.on("response", (up) => {
      clearTimeout(headerTimer);
      const status = up.statusCode ?? 502;
      const contentType = String(up.headers["content-type"] ?? "");
      if (contentType.includes("text/event-stream")) {
        relayStream(up, status, contentType);
      } else {
        relayBuffered(up, status, contentType);
      }
    });

    upstream.end(payload);

    function relayStream(up: IncomingMessage, status: number, contentType: string) {
      res.writeHead(
        status,
        headerRecord({
          ...request.replyHeaders,
          "content-type": contentType,
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        }),
      );
      res.flushHeaders();
      const splitter = new SseEventSplitter();
      const decoder = new StringDecoder("utf8");
      const think = request.normalizeReasoning ? new ThinkSplitter() : null;
      let lastEnvelope: Record<string, unknown> | null = null;
      let streamError: string | null = null;

      const handle = (event: string): string | null => {
        const data = eventData(event);
        if (data === null) return event;
        if (data === "[DONE]") {
          const held = think?.flush();
          if (held && (held.content || held.reasoning) && lastEnvelope) {
            return `${chunkWith(lastEnvelope, held.content, held.reasoning)}\n\n${event}`;
          }
          return event;
        }
        if (outcome.ttftMs === null && TEXT_FIELD.test(data)) outcome.ttftMs = now() - started;
        const needsJson =
          data.includes('"usage":{') ||
          data.includes('"error"') ||
          (think !== null && data.includes('"content"'));
        if (!needsJson) return event;
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(data) as Record<string, unknown>;
        } catch {
          return event;
        }
        const message = errorMessageOf(json);
        if (message !== null) streamError = message;
        const usage = usageOf(json);
        if (usage !== null) {
          outcome.usage = usage;
          const choices = json.choices;
          if (request.injectedUsage && Array.isArray(choices) && choices.length === 0) return null;
        }
        if (think !== null && Array.isArray(json.choices)) {
          lastEnvelope = json;
          let changed = false;
          for (const choice of json.choices as Array<Record<string, unknown>>) {
            const delta = choice.delta as Record<string, unknown> | undefined;
            if (typeof delta?.content !== "string") continue;
            const split = think.push(delta.content);
            delta.content = split.content;
            if (split.reasoning) {
              delta.reasoning_content = `${typeof delta.reasoning_content === "string" ? delta.reasoning_content : ""}${split.reasoning}`;
            }
            changed = true;
          }
          if (changed) return `data: ${JSON.stringify(json)}`;
        }
        return event;
      };

      up.on("data", (chunk: Buffer) => {
        let out = "";
        for (const event of splitter.push(decoder.write(chunk))) {
          const kept = handle(event);
          if (kept !== null) out += `${kept}\n\n`;
        }
        if (out.length > 0 && !res.write(out)) {
          up.pause();
          res.once("drain", () => up.resume());
        }
      });
      up.on("close", () => {
        if (clientGone || settled) return;
        if (!up.complete) {
          const message = `instance ${target.instance}: the engine closed the stream before it ended`;
          endStreamWithError(res, message);
          settle(502, message);
          return;
        }
        const rest = splitter.rest();
        if (rest !== null) {
          const kept = handle(rest);
          if (kept !== null) res.write(`${kept}\n\n`);
        }
        res.end();
        settle(status, status >= 400 ? `engine answered ${status}` : streamError);
      });
      up.on("error", () => undefined);
    }

    function relayBuffered(up: IncomingMessage, status: number, contentType: string) {
      const chunks: Buffer[] = [];
      let size = 0;
      up.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BUFFERED_BYTES) {
          up.destroy(new Error(`the engine's response exceeds ${MAX_BUFFERED_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      up.on("error", () => undefined);
      up.on("close", () => {
        if (clientGone || settled) return;
        if (!up.complete) {
          const message = `instance ${target.instance}: the engine closed the connection before its response ended`;
          sendJson(res, 502, openAiError(message, "server_error", "upstream_closed"), request.replyHeaders);
          settle(502, message);
          return;
        }
        let body = Buffer.concat(chunks);
        let error: string | null = status >= 400 ? `engine answered ${status}` : null;
        if (contentType.includes("json")) {
          try {
            const json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
            outcome.usage = usageOf(json);
            if (status >= 400) error = errorMessageOf(json) ?? error;
            if (request.normalizeReasoning && normalizeMessages(json))
              body = Buffer.from(JSON.stringify(json));
          } catch {
            // not JSON after all: passed through as it is
          }
        }
        res.writeHead(
          status,
          headerRecord({
            ...request.replyHeaders,
            "content-type": contentType || "application/octet-stream",
            "content-length": body.length,
          }),
        );
        res.end(body);
        settle(status, error);
      });
    }
  });
}

/** A chunk like `envelope` carrying only this text (for text a think tag held back at the end). */
function chunkWith(envelope: Record<string, unknown>, content: string, reasoning: string): string {
  const delta: Record<string, string> = {};
  if (content) delta.content = content;
  if (reasoning) delta.reasoning_content = reasoning;
  const { usage: _usage, ...rest } = envelope;
  return `data: ${JSON.stringify({ ...rest, choices: [{ index: 0, delta, finish_reason: null }] })}`;
}

/** Moves think blocks of non-streamed chat messages to reasoning_content; whether anything changed. */
function normalizeMessages(json: Record<string, unknown>): boolean {
  if (!Array.isArray(json.choices)) return false;
  let changed = false;
  for (const choice of json.choices as Array<Record<string, unknown>>) {
    const message = choice.message as Record<string, unknown> | undefined;
    if (typeof message?.content !== "string" || !message.content.includes("<think>")) continue;
    const split = splitThink(message.content);
    message.content = split.content;
    message.reasoning_content = `${typeof message.reasoning_content === "string" ? message.reasoning_content : ""}${split.reasoning ?? ""}`;
    changed = true;
  }
  return changed;
}

/** Ends a stream that already started with an error event (as vLLM reports errors mid-stream). */
function endStreamWithError(res: ServerResponse, message: string): void {
  if (res.writableEnded || res.destroyed) return;
  const body: OpenAiErrorBody = openAiError(message, "server_error", "upstream_error");
  res.end(`data: ${JSON.stringify(body)}\n\ndata: [DONE]\n\n`);
}
