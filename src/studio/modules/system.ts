/**
 * The studio itself: health, status (each module's section), config, the event stream, the OpenAPI
 * document, Prometheus exposition of the studio's own metrics, and the landing page.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import { Counter, Gauge } from "prom-client";
import { z } from "zod";
import type { StudioApp, StudioContext, StudioModule } from "../context.js";
import { EVENT_TYPES, type StudioEventType } from "../events/bus.js";
import { SseClient } from "../events/sse.js";

const EventsQuery = z.object({
  /** Comma-separated event types (default: all). */
  types: z
    .string()
    .optional()
    .transform((value, check) => {
      if (value === undefined || value === "") return null;
      const types = value.split(",").map((t) => t.trim());
      const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (unknown.length > 0) {
        check.addIssue({
          code: "custom",
          message: `unknown event type ${unknown.join(", ")} (expected ${EVENT_TYPES.join(", ")})`,
        });
        return z.NEVER;
      }
      return new Set(types as StudioEventType[]);
    }),
  /** Only events about this instance (events without an instance still pass). */
  instance: z.string().optional(),
  /** For clients that cannot send the Last-Event-ID header on their first connection. */
  lastEventId: z.string().optional(),
});

function eventInstance(data: unknown): string | undefined {
  if (typeof data === "object" && data !== null && "instance" in data) {
    const value = (data as { instance: unknown }).instance;
    return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

/** The event-stream clients of each studio (a process may run several, as tests do). */
const CLIENTS = new WeakMap<StudioContext, Set<SseClient>>();

function clientsOf(ctx: StudioContext): Set<SseClient> {
  let clients = CLIENTS.get(ctx);
  if (!clients) {
    clients = new Set();
    CLIENTS.set(ctx, clients);
  }
  return clients;
}

export const systemModule: StudioModule = {
  name: "system",
  async routes(app, ctx) {
    const clients = clientsOf(ctx);
    new Gauge({
      name: "servepilot_studio_sse_clients",
      help: "Clients connected to /api/events.",
      registers: [ctx.metrics],
      collect() {
        this.set(clients.size);
      },
    });
    const published = new Counter({
      name: "servepilot_studio_events_total",
      help: "Events published on the event stream, by type.",
      labelNames: ["type"] as const,
      registers: [ctx.metrics],
    });
    const dropped = new Counter({
      name: "servepilot_studio_sse_dropped_clients_total",
      help: "Event-stream clients dropped because they read too slowly.",
      registers: [ctx.metrics],
    });
    ctx.events.subscribe((event) => published.inc({ type: event.type }));

    app.get(
      "/api/health",
      {
        schema: {
          summary: "Liveness: the studio answers (no API key needed).",
          response: {
            200: z.object({ status: z.literal("ok"), version: z.string(), uptimeSeconds: z.number() }),
          },
        },
      },
      async () => ({
        status: "ok" as const,
        version: ctx.version,
        uptimeSeconds: (Date.now() - ctx.startedAt) / 1000,
      }),
    );

    app.get(
      "/api/status",
      { schema: { summary: "Instances, GPUs and launches in progress, in one document." } },
      async () => {
        const sections: Record<string, unknown> = {};
        for (const [name, section] of ctx.statusSections) {
          try {
            sections[name] = await section();
          } catch (error) {
            ctx.log.warn({ err: error, section: name }, "status section failed");
            sections[name] = { error: (error as Error).message };
          }
        }
        return {
          version: ctx.version,
          startedAt: new Date(ctx.startedAt).toISOString(),
          uptimeSeconds: (Date.now() - ctx.startedAt) / 1000,
          eventStreamClients: clients.size,
          ...sections,
        };
      },
    );

    app.get(
      "/api/config",
      { schema: { summary: "The studio's settings (the API key itself is never shown)." } },
      async () => {
        const o = ctx.options;
        // the port it listens on: with --port 0 the system picks one, known only once listening
        const address = app.server.address();
        const port = typeof address === "object" && address !== null ? address.port : o.port;
        return {
          dataDir: o.dataDir,
          host: o.host,
          port,
          configuredPort: o.port,
          apiKeyRequired: o.apiKey !== null,
          allowCustomCommands: o.allowCustomCommands,
          corsOrigins: o.corsOrigins,
          stopEnginesOnShutdown: o.stopEngines,
          restore: o.restore,
          rateLimitPerMinute: o.rateLimitPerMinute,
          bodyLimitBytes: o.bodyLimitBytes,
          intervalsMs: {
            gpuSample: o.gpuSampleMs,
            scrape: o.scrapeMs,
            watchdog: o.watchdogMs,
            heartbeat: o.heartbeatMs,
          },
          recipesDir: o.recipesDir,
          enginePortStart: o.enginePortStart,
        };
      },
    );

    app.get(
      "/api/events",
      {
        schema: {
          summary: `Server-sent events: ${EVENT_TYPES.join(", ")}.`,
          description:
            "Send Last-Event-ID (header, or the lastEventId query) to replay what was missed. A `resync` event says the gap was too large: refetch /api/status.",
          querystring: EventsQuery,
        },
      },
      (request, reply) => {
        const { types, instance, lastEventId } = request.query;
        const header = request.headers["last-event-id"];
        const last = typeof header === "string" ? header : lastEventId;
        const wanted = (type: StudioEventType, data: unknown) =>
          (types === null || types.has(type)) &&
          (instance === undefined || [undefined, instance].includes(eventInstance(data)));
        reply.hijack();
        const client = new SseClient(reply.raw, {
          heartbeatMs: ctx.options.heartbeatMs,
          onClose: (reason) => {
            unsubscribe();
            clients.delete(client);
            if (reason === "slow") {
              dropped.inc();
              request.log.warn(
                "event-stream client dropped: it read too slowly (it will reconnect and replay)",
              );
            }
          },
        });
        clients.add(client);
        const replay = ctx.events.since(last);
        if (replay.gap) client.send({ id: `${ctx.events.boot}-0`, type: "status", data: { resync: true } });
        for (const event of replay.events) if (wanted(event.type, event.data)) client.send(event);
        const unsubscribe = ctx.events.subscribe((event) => {
          if (wanted(event.type, event.data)) client.send(event);
        });
      },
    );

    app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());

    app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
      reply.header("content-type", ctx.metrics.contentType);
      return ctx.metrics.metrics();
    });

    if (existsSync(fileURLToPath(new URL("index.html", WEB_ROOT)))) {
      await serveWebApp(app);
    } else {
      app.get("/", { schema: { hide: true } }, async (_request, reply) => {
        reply.header("content-type", "text/html; charset=utf-8");
        return landingPage(ctx);
      });
    }
  },
  async stop(ctx) {
    for (const client of clientsOf(ctx)) client.close("server");
  },
};

/**
 * The built web UI (`vite build --config web/vite.config.ts`): dist/web, beside dist/studio when
 * built, and the same folder when the studio runs from src/ (tests).
 */
const WEB_ROOT = new URL("../../../dist/web/", import.meta.url);

/** The web UI's client-side routes: each answers index.html (the app routes itself). */
export const WEB_UI_ROUTES = ["planner", "recipes", "chat", "usage", "models", "logs", "settings"] as const;

/**
 * Serves dist/web: hashed assets under /assets/ cached for a year (their names change with their
 * content), everything else (index.html first) revalidated on every load, and index.html for "/" and
 * the client-side routes. /api, /v1 and /metrics are not touched.
 */
async function serveWebApp(app: StudioApp): Promise<void> {
  await app.register(fastifyStatic, {
    root: fileURLToPath(WEB_ROOT),
    prefix: "/",
    wildcard: false,
    index: false,
    cacheControl: false,
    etag: true,
    lastModified: true,
    setHeaders(res, path) {
      res.setHeader(
        "cache-control",
        path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
  const index = (_request: unknown, reply: { sendFile(file: string): unknown }) =>
    reply.sendFile("index.html");
  app.get("/", { schema: { hide: true } }, index);
  for (const route of WEB_UI_ROUTES) {
    app.get(`/${route}`, { schema: { hide: true } }, index);
    app.get(`/${route}/*`, { schema: { hide: true } }, index);
  }
}

function landingPage(ctx: StudioContext): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>servepilot studio</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto">
<h1>servepilot studio ${ctx.version}</h1>
<p>The control plane is running. API: <a href="/api/status">/api/status</a>,
<a href="/api/openapi.json">/api/openapi.json</a>, events at <code>/api/events</code>,
Prometheus metrics at <a href="/metrics">/metrics</a>.</p>
</body></html>
`;
}
