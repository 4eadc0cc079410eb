/**
 * Builds and starts the studio: Fastify with zod validation and an OpenAPI document, the SQLite
 * database (migrated), the event bus, security (API key, CORS, rate and body limits, request ids),
 * then each module's routes and background work. `close()` stops background work, ends the event
 * streams and closes the database; engines keep running unless `stopEngines`.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { pino } from "pino";
import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import { ServepilotError } from "../core/errors.js";
import type { StudioApp, StudioContext, StudioModule } from "./context.js";
import { openDatabase } from "./db/database.js";
import { EventBus } from "./events/bus.js";
import { sendError } from "./http/errors.js";
import { authenticate, isGatewayPath, isPublicPath } from "./http/security.js";
import { benchmarksModule } from "./modules/benchmarks.js";
import { catalogModule } from "./modules/catalog.js";
import { chatsModule } from "./modules/chats.js";
import { gatewayModule } from "./modules/gateway.js";
import { instancesModule } from "./modules/instances.js";
import { keysModule } from "./modules/keys.js";
import { mcpModule } from "./modules/mcp.js";
import { metricsModule } from "./modules/metrics.js";
import { systemModule } from "./modules/system.js";
import { usageModule } from "./modules/usage.js";
import { type ResolvedStudioOptions, resolveStudioOptions, type StudioOptions } from "./options.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** The modules, in start order (instances adopt engines before metrics start scraping them). */
export const STUDIO_MODULES: StudioModule[] = [
  systemModule,
  keysModule,
  catalogModule,
  instancesModule,
  metricsModule,
  gatewayModule,
  chatsModule,
  mcpModule,
  benchmarksModule,
  usageModule,
];

export interface Studio {
  app: StudioApp;
  ctx: StudioContext;
  /** http://host:port once listening. */
  url: string;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function buildLogger(options: ResolvedStudioOptions) {
  return pino(
    {
      level: options.logLevel,
      base: { service: "servepilot-studio" },
      redact: { paths: ["req.headers.authorization", 'req.headers["x-api-key"]'], censor: "[redacted]" },
    },
    options.logStream ?? process.stdout,
  );
}

export async function startStudio(
  input: StudioOptions,
  modules: StudioModule[] = STUDIO_MODULES,
): Promise<Studio> {
  const options = resolveStudioOptions(input);
  const database = await openDatabase(options.dataDir);
  const logger = buildLogger(options);
  const app: StudioApp = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "servepilot_studio_" });
  const ctx: StudioContext = {
    options,
    dataDir: options.dataDir,
    env: options.env,
    db: database.db,
    events: new EventBus(),
    log: app.log,
    metrics: registry,
    version: pkg.version,
    startedAt: Date.now(),
    statusSections: new Map(),
    closing: false,
    baseUrl: "",
    services: {},
  };
  if (database.applied.length > 0) app.log.info({ migrations: database.applied }, "database migrated");

  const requests = new Counter({
    name: "servepilot_studio_http_requests_total",
    help: "HTTP requests served by the studio, by method, route and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });

  app.decorateRequest("apiKeyId", null);
  app.decorateRequest("gatewayKey", null);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (isPublicPath(request.url)) return;
    await authenticate(request, ctx);
  });
  app.addHook("onResponse", async (request, reply) => {
    requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    });
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new ServepilotError("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );

  if (options.corsOrigins.length > 0) {
    await app.register(cors, { origin: options.corsOrigins, credentials: false });
  }
  if (options.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: options.rateLimitPerMinute,
      timeWindow: 60_000,
      // the gateway's traffic is limited per API key (keys module), not per address; liveness probes
      // (load balancers, monitors) are never refused
      allowList: (request) => isGatewayPath(request.url) || request.url === "/api/health",
      errorResponseBuilder: (_request, context) =>
        new ServepilotError("RATE_LIMITED", `more than ${context.max} requests per minute`, {
          hint: `retry after ${Math.ceil(context.ttl / 1000)} s`,
        }),
    });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: "servepilot studio", version: pkg.version },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  for (const module of modules) await module.routes?.(app, ctx);

  const close = async (): Promise<void> => {
    if (ctx.closing) return;
    ctx.closing = true;
    for (const module of [...modules].reverse()) {
      try {
        await module.stop?.(ctx, { stopEngines: options.stopEngines });
      } catch (error) {
        app.log.error({ err: error, module: module.name }, "module stop failed");
      }
    }
    await app.close();
    await database.close();
  };

  try {
    await app.listen({ host: options.host, port: options.port });
    ctx.baseUrl = urlOf(app, options);
    for (const module of modules) await module.start?.(ctx);
  } catch (error) {
    await close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `--host ${options.host} --port ${options.port}: cannot listen (${code})`,
        {
          hint:
            code === "EADDRINUSE" ? "another process uses this port; pick another with --port" : undefined,
          cause: error,
        },
      );
    }
    throw error;
  }
  return { app, ctx, url: ctx.baseUrl, close };
}

function urlOf(app: StudioApp, options: ResolvedStudioOptions): string {
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  // a wildcard bind is reached through loopback from this machine
  const host = options.host === "0.0.0.0" ? "127.0.0.1" : options.host === "::" ? "::1" : options.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
