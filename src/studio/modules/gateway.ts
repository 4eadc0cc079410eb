/**
 * The OpenAI-compatible gateway (`/v1/*`): routes each request by its `model` to the instance serving
 * it, forwards it (gateway/proxy.ts), records it (gateway/recorder.ts), starts on-demand models and
 * unloads idle ones. Errors here are in OpenAI's shape, not the /api one, so OpenAI clients read them.
 */
import { performance } from "node:perf_hooks";
import type { FastifyReply, FastifyRequest } from "fastify";
import { isServepilotError } from "../../core/errors.js";
import { openAiError } from "../../core/gateway/openai.js";
import { PeriodicTask } from "../../runtime/periodic-task.js";
import { CHAT_SESSION_HEADER, type StudioApp, type StudioContext, type StudioModule } from "../context.js";
import { createGatewayMetrics } from "../gateway/metrics.js";
import { forward, GATEWAY_BODY_LIMIT } from "../gateway/proxy.js";
import { RequestRecorder, type RequestRow } from "../gateway/recorder.js";
import { type RouteTarget, RoutingTable, type StartableModel } from "../gateway/routing.js";

/** Routes forwarded by model: the gateway path and the engine path. */
const FORWARDED: ReadonlyArray<readonly [string, string]> = [
  ["/chat/completions", "/v1/chat/completions"],
  ["/completions", "/v1/completions"],
  ["/embeddings", "/v1/embeddings"],
  ["/rerank", "/v1/rerank"],
  ["/score", "/v1/score"],
  // vLLM, SGLang and llama-server serve these at the root
  ["/tokenize", "/tokenize"],
  ["/detokenize", "/detokenize"],
];

/** Streamed endpoints whose usage chunk the gateway asks for (stream_options.include_usage). */
const USAGE_STREAMS = new Set(["/v1/chat/completions", "/v1/completions"]);

/** Seconds a client is told to wait for a model that is loading. */
const RETRY_AFTER_SECONDS = 5;

class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

const RATE_TYPES: Record<string, [string, string]> = {
  quota: ["insufficient_quota", "insufficient_quota"],
  rate: ["requests", "rate_limit_exceeded"],
};

/** Any error as the OpenAI error body and its status. */
function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isServepilotError(error)) {
    const details = (error.details ?? {}) as { reason?: string; retryAfterSeconds?: number };
    switch (error.code) {
      case "UNAUTHORIZED":
        return new GatewayError(401, error.message, "invalid_request_error", "invalid_api_key");
      case "PERMISSION_DENIED":
        return new GatewayError(403, error.message, "invalid_request_error", "permission_denied");
      case "RATE_LIMITED": {
        const [type, code] = RATE_TYPES[details.reason ?? "rate"] ?? ["requests", "rate_limit_exceeded"];
        return new GatewayError(429, error.message, type, code, null, details.retryAfterSeconds ?? null);
      }
      case "NOT_FOUND":
        return new GatewayError(404, error.message, "invalid_request_error", "not_found");
      case "INVALID_ARGUMENT":
        return new GatewayError(400, error.message, "invalid_request_error", null);
      default:
        return new GatewayError(500, error.message, "server_error", error.code.toLowerCase());
    }
  }
  const status = (error as { statusCode?: number }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new GatewayError(
      status,
      message,
      "invalid_request_error",
      (error as { code?: string }).code ?? null,
    );
  }
  return new GatewayError(500, "internal error in the gateway", "server_error", null);
}

function sendGatewayError(reply: FastifyReply, error: GatewayError) {
  if (error.retryAfter !== null) reply.header("retry-after", String(error.retryAfter));
  return reply.code(error.status).send(openAiError(error.message, error.type, error.code, error.param));
}

interface GatewayState {
  routing: RoutingTable;
  recorder: RequestRecorder;
  inFlight: Map<string, number>;
  lastUsed: Map<string, number>;
  starting: Map<string, Promise<void>>;
  unloading: Set<string>;
  idle: PeriodicTask<void> | null;
  unsubscribe: (() => void) | null;
  refresher: PeriodicTask<void> | null;
}

const STATE = new WeakMap<StudioContext, GatewayState>();

function stateOf(ctx: StudioContext): GatewayState {
  let state = STATE.get(ctx);
  if (!state) {
    state = {
      routing: new RoutingTable(ctx),
      recorder: new RequestRecorder(ctx.db, ctx.log),
      inFlight: new Map(),
      lastUsed: new Map(),
      starting: new Map(),
      unloading: new Set(),
      idle: null,
      unsubscribe: null,
      refresher: null,
    };
    STATE.set(ctx, state);
  }
  return state;
}

/** The gateway's request log, for modules that follow it (usage, chats). */
export function gatewayRecorder(ctx: StudioContext): RequestRecorder {
  return stateOf(ctx).recorder;
}

function pickTarget(state: GatewayState, targets: RouteTarget[]): RouteTarget {
  let best = targets[0] as RouteTarget;
  for (const target of targets) {
    if ((state.inFlight.get(target.instance) ?? 0) < (state.inFlight.get(best.instance) ?? 0)) best = target;
  }
  return best;
}

function wantsReasoningNormalised(ctx: StudioContext, request: FastifyRequest): boolean {
  const header = request.headers["x-servepilot-reasoning"];
  if (header === "normalize") return true;
  if (header === "off") return false;
  return ctx.options.normalizeReasoning;
}

async function startOnDemand(
  ctx: StudioContext,
  state: GatewayState,
  startable: StartableModel,
): Promise<never> {
  const lifecycle = ctx.services.lifecycle;
  if (!lifecycle) throw new GatewayError(503, "the instance lifecycle is not running", "server_error", null);
  let pending = state.starting.get(startable.id);
  if (!pending) {
    pending = lifecycle
      .launch(startable.body)
      .then((started) => {
        ctx.log.info({ model: startable.id, instance: started.name }, "gateway: starting a model on demand");
        ctx.events.publish("gateway", {
          action: "on-demand-start",
          model: startable.id,
          instance: started.name,
        });
      })
      .finally(() => {
        state.starting.delete(startable.id);
        void state.routing.refresh();
      });
    state.starting.set(startable.id, pending);
  }
  try {
    await pending;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new GatewayError(
      503,
      `model "${startable.id}" could not be started on demand: ${message}`,
      "server_error",
      "model_start_failed",
    );
  }
  throw new GatewayError(
    503,
    `model "${startable.id}" is starting; retry in a few seconds`,
    "server_error",
    "model_loading",
    null,
    RETRY_AFTER_SECONDS,
  );
}

async function resolveTarget(ctx: StudioContext, state: GatewayState, model: string): Promise<RouteTarget> {
  if (state.routing.stale) await state.routing.fresh();
  let resolution = state.routing.resolve(model);
  if (resolution.kind !== "ready" && resolution.kind !== "starting") {
    await state.routing.refresh();
    resolution = state.routing.resolve(model);
  }
  switch (resolution.kind) {
    case "ready":
      return pickTarget(state, resolution.targets);
    case "starting":
      throw new GatewayError(
        503,
        `model "${model}" is loading (instance ${resolution.instance}); retry in a few seconds`,
        "server_error",
        "model_loading",
        null,
        RETRY_AFTER_SECONDS,
      );
    case "startable":
      return startOnDemand(ctx, state, resolution.startable);
    case "stopped":
      throw new GatewayError(
        404,
        `model "${model}" is not running (instance ${resolution.instance} is stopped)`,
        "invalid_request_error",
        "model_not_running",
        "model",
      );
    default:
      throw new GatewayError(
        404,
        `model "${model}" does not exist: no running instance or on-demand recipe serves it (GET /v1/models lists them)`,
        "invalid_request_error",
        "model_not_found",
        "model",
      );
  }
}

function headerText(value: string | string[] | undefined): string | null {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text.length > 0 && text.length <= 200 ? text : null;
}

async function handleForwarded(
  ctx: StudioContext,
  state: GatewayState,
  upstreamPath: string,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const startedMs = performance.now();
  const at = new Date().toISOString();
  const body = request.body;
  const row: RequestRow = {
    request_id: request.id,
    at,
    api_key_id: request.apiKeyId,
    model: "",
    instance: null,
    endpoint: upstreamPath,
    stream: 0,
    status: 0,
    error: null,
    prompt_tokens: null,
    completion_tokens: null,
    cached_tokens: null,
    ttft_ms: null,
    duration_ms: 0,
    chat_session_id: headerText(request.headers[CHAT_SESSION_HEADER]),
  };
  const record = (status: number, error: string | null) => {
    row.status = status;
    row.error = error;
    row.duration_ms = performance.now() - startedMs;
    state.recorder.record(row);
    const tokens = (row.prompt_tokens ?? 0) + (row.completion_tokens ?? 0);
    const keyId = row.api_key_id;
    if (typeof keyId === "string" && tokens > 0) ctx.services.keys?.recordTokens(keyId, tokens);
  };

  let target: RouteTarget;
  let forwarded: Record<string, unknown>;
  let injectedUsage = false;
  try {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new GatewayError(400, "the request body must be a JSON object", "invalid_request_error", null);
    }
    const model = (body as { model?: unknown }).model;
    if (typeof model !== "string" || model.length === 0) {
      throw new GatewayError(
        400,
        "model is required (a string)",
        "invalid_request_error",
        "missing_model",
        "model",
      );
    }
    row.model = model.slice(0, 512);
    forwarded = { ...(body as Record<string, unknown>) };
    row.stream = forwarded.stream === true ? 1 : 0;
    target = await resolveTarget(ctx, state, model);
    forwarded.model = target.servedModelName;
    if (forwarded.stream === true && USAGE_STREAMS.has(upstreamPath)) {
      const options = forwarded.stream_options;
      const asked =
        typeof options === "object" &&
        options !== null &&
        (options as { include_usage?: unknown }).include_usage === true;
      if (!asked) {
        injectedUsage = true;
        forwarded.stream_options = {
          ...(typeof options === "object" && options !== null ? options : {}),
          include_usage: true,
        };
      }
    }
  } catch (error) {
    const gatewayError = toGatewayError(error);
    record(gatewayError.status, gatewayError.message);
    return sendGatewayError(reply, gatewayError);
  }

  row.instance = target.instance;
  state.inFlight.set(target.instance, (state.inFlight.get(target.instance) ?? 0) + 1);
  state.lastUsed.set(target.instance, Date.now());
  reply.hijack();
  const outcome = await forward(
    {
      target,
      path: upstreamPath,
      body: forwarded,
      injectedUsage,
      normalizeReasoning: wantsReasoningNormalised(ctx, request),
      timeoutMs: ctx.options.gatewayTimeoutMs,
      requestId: request.id,
      replyHeaders: reply.getHeaders() as Record<string, string | number | string[]>,
    },
    reply.raw,
  );
  state.inFlight.set(target.instance, Math.max(0, (state.inFlight.get(target.instance) ?? 1) - 1));
  state.lastUsed.set(target.instance, Date.now());
  row.prompt_tokens = outcome.usage?.promptTokens ?? null;
  row.completion_tokens = outcome.usage?.completionTokens ?? null;
  row.cached_tokens = outcome.usage?.cachedTokens ?? null;
  row.ttft_ms = outcome.ttftMs;
  record(outcome.status, outcome.error);
}

function modelsList(state: GatewayState) {
  const { instances, startable } = state.routing.listing();
  const data = [
    ...instances.map((record) => ({
      id: record.servedModelName,
      object: "model" as const,
      created: Math.floor(Date.parse(record.createdAt) / 1000),
      owned_by: "servepilot",
      root: record.model,
      servepilot: { status: record.status, instance: record.name, engine: record.engine, onDemand: false },
    })),
    ...startable.map((s) => ({
      id: s.id,
      object: "model" as const,
      created: 0,
      owned_by: "servepilot",
      root: s.id,
      servepilot: { status: "stopped", instance: null, engine: null, onDemand: true, [s.source]: s.sourceId },
    })),
  ];
  return { object: "list" as const, data };
}

/** Stops instances with an idle TTL that have had no gateway request for that long. */
async function unloadIdle(ctx: StudioContext, state: GatewayState): Promise<void> {
  const lifecycle = ctx.services.lifecycle;
  if (!lifecycle || ctx.closing) return;
  const now = Date.now();
  for (const record of state.routing.listing().instances) {
    const ttl = state.routing.ttlOf(record.name);
    if (ttl === null || record.status !== "ready" || state.unloading.has(record.name)) continue;
    if ((state.inFlight.get(record.name) ?? 0) > 0) continue;
    const last = Math.max(state.lastUsed.get(record.name) ?? 0, ttl.readyAtMs);
    if (now - last < ttl.seconds * 1000) continue;
    state.unloading.add(record.name);
    ctx.log.info({ instance: record.name, idleSeconds: ttl.seconds }, "gateway: unloading an idle model");
    ctx.events.publish("gateway", { action: "idle-unload", instance: record.name, idleSeconds: ttl.seconds });
    try {
      await lifecycle.stop(record.name);
    } catch (error) {
      ctx.log.warn({ err: error, instance: record.name }, "gateway: could not unload an idle model");
    } finally {
      state.unloading.delete(record.name);
      state.lastUsed.delete(record.name);
      await state.routing.refresh();
    }
  }
}

function registerRoutes(v1: StudioApp, ctx: StudioContext) {
  const state = stateOf(ctx);
  state.recorder.onRecord(createGatewayMetrics(ctx.metrics));
  ctx.statusSections.set("requestLog", () => ({
    ok: state.recorder.lastError === null,
    queued: state.recorder.queued,
    dropped: state.recorder.dropped,
    error: state.recorder.lastError,
  }));
  v1.setErrorHandler((error, _request, reply) => sendGatewayError(reply, toGatewayError(error)));
  v1.setNotFoundHandler((request, reply) =>
    sendGatewayError(
      reply,
      new GatewayError(
        404,
        `no route ${request.method} ${request.url.split("?")[0]}`,
        "invalid_request_error",
        "not_found",
      ),
    ),
  );
  v1.get(
    "/models",
    { schema: { tags: ["gateway"], summary: "Models: running instances, and on-demand ones (marked)" } },
    async () => {
      await state.routing.refresh();
      return modelsList(state);
    },
  );
  for (const [path, upstreamPath] of FORWARDED) {
    v1.post(
      path,
      {
        bodyLimit: GATEWAY_BODY_LIMIT,
        schema: {
          tags: ["gateway"],
          summary: `OpenAI-compatible ${path}, forwarded to the instance serving body.model`,
        },
      },
      (request, reply) => handleForwarded(ctx, state, upstreamPath, request, reply),
    );
  }
}

export const gatewayModule: StudioModule = {
  name: "gateway",
  async routes(app, ctx) {
    await app.register(async (v1) => registerRoutes(v1 as StudioApp, ctx), { prefix: "/v1" });
  },
  async start(ctx) {
    const state = stateOf(ctx);
    await state.routing.refresh();
    state.unsubscribe = ctx.events.subscribe((event) => {
      if (event.type === "instance") state.routing.invalidate();
    });
    state.refresher = new PeriodicTask(5000, () => state.routing.refresh());
    state.refresher.start({ runNow: false });
    state.idle = new PeriodicTask(ctx.options.idleCheckMs, () => unloadIdle(ctx, state));
    state.idle.start({ runNow: false });
  },
  async stop(ctx) {
    const state = stateOf(ctx);
    state.unsubscribe?.();
    await state.refresher?.stop();
    await state.idle?.stop();
    await state.recorder.close();
  },
};
