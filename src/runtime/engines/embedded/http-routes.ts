/**
 * The embedded server's routes, with llama-server's behaviour around them: every route answers 503
 * "Loading model" until the model is ready (its HTTP middleware does the same), an unknown path is
 * 404, a known path with the wrong method 405, a body over 1 MiB 413, a body that is not JSON 400.
 * Any model name a client sends is accepted and answered with the alias, as llama-server does when
 * it serves one model.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type CompletionDeps, handleCompletion, sendJson } from "./completion-handler.js";
import type { EmbeddedEngine } from "./llama-engine.js";
import type { EmbeddedServerMetrics } from "./metrics.js";
import {
  parseChatCompletionRequest,
  parseTextCompletionRequest,
  type RequestValidation,
} from "./openai-request.js";
import { errorBody } from "./openai-response.js";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface EmbeddedHttpState {
  readonly alias: string;
  /** Unix seconds the server started (the `created` of /v1/models). */
  readonly startedAt: number;
  readonly metrics: EmbeddedServerMetrics;
  /** null while the model loads. */
  engine(): EmbeddedEngine | null;
  stopping(): boolean;
  track: CompletionDeps["track"];
}

type Handler = (
  state: EmbeddedHttpState,
  engine: EmbeddedEngine,
  req: IncomingMessage,
  res: ServerResponse,
) => void;

interface Route {
  method: "GET" | "POST";
  handle: Handler;
}

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  [
    "/health",
    { method: "GET", handle: (_state, _engine, _req, res) => sendJson(res, 200, { status: "ok" }) },
  ],
  [
    "/v1/health",
    { method: "GET", handle: (_state, _engine, _req, res) => sendJson(res, 200, { status: "ok" }) },
  ],
  ["/v1/models", { method: "GET", handle: handleModels }],
  ["/models", { method: "GET", handle: handleModels }],
  ["/metrics", { method: "GET", handle: handleMetrics }],
  ["/v1/chat/completions", { method: "POST", handle: handleChat }],
  ["/chat/completions", { method: "POST", handle: handleChat }],
  ["/v1/completions", { method: "POST", handle: handleText }],
]);

export function createEmbeddedRequestHandler(state: EmbeddedHttpState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = ROUTES.get(path);
    if (!route) {
      sendJson(res, 404, errorBody(404, `File Not Found: ${path}`, "not_found_error"));
      return;
    }
    if (req.method !== route.method && !(route.method === "GET" && req.method === "HEAD")) {
      sendJson(
        res,
        405,
        errorBody(
          405,
          `${req.method} is not allowed on ${path}; use ${route.method}`,
          "invalid_request_error",
        ),
        { Allow: route.method },
      );
      return;
    }
    const engine = state.engine();
    if (state.stopping()) {
      sendJson(res, 503, errorBody(503, "the server is shutting down", "unavailable_error"));
      return;
    }
    if (engine === null) {
      sendJson(res, 503, errorBody(503, "Loading model", "unavailable_error"));
      return;
    }
    route.handle(state, engine, req, res);
  };
}

function handleModels(
  state: EmbeddedHttpState,
  _engine: EmbeddedEngine,
  _req: IncomingMessage,
  res: ServerResponse,
) {
  sendJson(res, 200, {
    object: "list",
    data: [{ id: state.alias, object: "model", created: state.startedAt, owned_by: "servepilot" }],
  });
}

function handleMetrics(
  state: EmbeddedHttpState,
  engine: EmbeddedEngine,
  _req: IncomingMessage,
  res: ServerResponse,
) {
  const text = state.metrics.render(engine.queueState());
  res.writeHead(200, {
    "Content-Type": "text/plain; version=0.0.4",
    "Content-Length": Buffer.byteLength(text),
    "Process-Start-Time-Unix": String(state.startedAt),
  });
  res.end(text);
}

function handleChat(
  state: EmbeddedHttpState,
  engine: EmbeddedEngine,
  req: IncomingMessage,
  res: ServerResponse,
) {
  handleJsonPost(state, engine, req, res, (body) => {
    const parsed = parseChatCompletionRequest(body);
    return parsed.ok ? { ok: true, value: { kind: "chat", request: parsed.value } } : parsed;
  });
}

function handleText(
  state: EmbeddedHttpState,
  engine: EmbeddedEngine,
  req: IncomingMessage,
  res: ServerResponse,
) {
  handleJsonPost(state, engine, req, res, (body) => {
    const parsed = parseTextCompletionRequest(body);
    return parsed.ok ? { ok: true, value: { kind: "text", request: parsed.value } } : parsed;
  });
}

function handleJsonPost(
  state: EmbeddedHttpState,
  engine: EmbeddedEngine,
  req: IncomingMessage,
  res: ServerResponse,
  parse: (body: unknown) => RequestValidation<Parameters<typeof handleCompletion>[1]>,
): void {
  readBody(req).then(
    (body) => {
      if (body === null) {
        sendJson(
          res,
          413,
          errorBody(413, `the request body exceeds ${MAX_BODY_BYTES} bytes`, "invalid_request_error"),
          {
            Connection: "close",
          },
        );
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch (error) {
        sendJson(
          res,
          400,
          errorBody(
            400,
            `the request body is not valid JSON: ${(error as Error).message}`,
            "invalid_request_error",
          ),
        );
        return;
      }
      const parsed = parse(json);
      if (!parsed.ok) {
        sendJson(res, 400, errorBody(400, parsed.message, "invalid_request_error"));
        return;
      }
      void handleCompletion({ engine, alias: state.alias, track: state.track }, parsed.value, res);
    },
    () => res.destroy(),
  );
}

/** The body as text, or null when it is larger than MAX_BODY_BYTES (the rest is not read). */
function readBody(req: IncomingMessage): Promise<string | null> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
