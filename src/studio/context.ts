/**
 * What every part of the studio shares: options, the database, the event bus, the logger and the
 * Prometheus registry. Features are modules (modules/*.ts): each adds its routes, may run background
 * work between start and stop, and may add a section to /api/status.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import type { Registry } from "prom-client";
import type { StudioDatabase } from "./db/schema.js";
import type { EventBus } from "./events/bus.js";
import type { LifecycleManager } from "./lifecycle/manager.js";
import type { MetricsStore } from "./metrics/persistence.js";
import type { ResolvedStudioOptions } from "./options.js";

export type StudioApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface StudioContext {
  options: ResolvedStudioOptions;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  db: Kysely<StudioDatabase>;
  events: EventBus;
  log: FastifyBaseLogger;
  metrics: Registry;
  version: string;
  startedAt: number;
  /** Sections of GET /api/status, by name (instances, gpus, launching …). */
  statusSections: Map<string, () => unknown | Promise<unknown>>;
  /** Set once shutdown begins: background loops stop scheduling work. */
  closing: boolean;
  /** http://host:port once listening (for the studio's own calls to its gateway). */
  baseUrl: string;
  /** Services modules offer each other (set by the module that owns each). */
  services: StudioServices;
}

export interface StudioServices {
  /** The instance lifecycle (instances module): launch, stop, list … */
  lifecycle?: LifecycleManager;
  /** Peak and lifetime metrics (metrics module): one store, so that every writer keeps the best figures. */
  peaks?: MetricsStore;
  /** Gateway API keys (keys module): authenticate a presented key, admit a request under its limits. */
  keys?: KeyService;
}

/** A gateway key as the auth hook and the gateway see it (never the secret). */
export interface GatewayKey {
  id: string;
  name: string;
  rateLimitPerMinute: number | null;
  tokenQuota: number | null;
}

export interface KeyService {
  /** The live (not revoked) gateway key whose secret this is, else null. */
  authenticate(secret: string): Promise<GatewayKey | null>;
  /** Throws RATE_LIMITED when the key is over its per-minute limit or its token quota. */
  admit(key: GatewayKey): Promise<void>;
  /** The gateway reports the tokens of each request it records (for the quota). */
  recordTokens(keyId: string, tokens: number): void;
  /** A presented secret that belongs to a revoked key (to refuse it by name). */
  lookup(secret: string): Promise<(GatewayKey & { revoked: boolean }) | null>;
}

/**
 * Header the studio's own callers (chats) send to the gateway so that the request row is linked to
 * the chat session (requests.chat_session_id).
 */
export const CHAT_SESSION_HEADER = "x-servepilot-chat-session";

/** Headers for the studio's own calls to its gateway (${ctx.baseUrl}/v1/...): the admin key when set. */
export function internalGatewayHeaders(ctx: StudioContext): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ctx.options.apiKey !== null) headers.authorization = `Bearer ${ctx.options.apiKey}`;
  return headers;
}

export interface StudioModule {
  name: string;
  /** Adds the module's routes (under /api unless it says otherwise). */
  routes?(app: StudioApp, ctx: StudioContext): void | Promise<void>;
  /** Starts background work once the server listens (adoption, samplers, watchdog). */
  start?(ctx: StudioContext): Promise<void>;
  /** Stops background work; engines are left running unless `stopEngines`. */
  stop?(ctx: StudioContext, options: { stopEngines: boolean }): Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The gateway API key that authenticated this request (its id in `api_keys`); null for the admin
     * key or an unauthenticated loopback request.
     */
    apiKeyId: string | null;
    /** The gateway key of this request (its limits), when one authenticated it. */
    gatewayKey: GatewayKey | null;
  }
}
