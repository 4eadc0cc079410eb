/**
 * Usage analytics over the gateway's request log: totals, latency and TTFT percentiles, per model and
 * per key, by UTC day and hour of day, week over week and GPU energy per token (GET /api/usage), and
 * the request log itself, newest first (GET /api/usage/requests). docs/studio-usage.md describes both.
 */
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import { computeUsage, lastDaysWindow } from "../../core/usage/analytics.js";
import type { StudioModule } from "../context.js";
import { readEnergyMinutes, readRequestPage, readUsageRequests } from "../usage/queries.js";

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

const ModelFilter = z.string().min(1).max(500).optional().describe("Only the requests for this model.");
const KeyFilter = z
  .string()
  .min(1)
  .max(100)
  .optional()
  .describe('Only the requests of this API key id; "admin" for the admin key and unauthenticated loopback.');

const UsageQuery = z
  .object({
    days: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_DAYS)
      .default(14)
      .describe("The last N UTC days, today included (ignored when `from` is given)."),
    from: z.iso.datetime({ offset: true }).optional().describe("Window start (ISO time), instead of `days`."),
    to: z.iso.datetime({ offset: true }).optional().describe("Window end (ISO time); default: now."),
    model: ModelFilter,
    keyId: KeyFilter,
  })
  .strict();

const RequestsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100).describe("Rows per page (1-500)."),
    before: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Only rows with a smaller id: the `nextBefore` of the previous page."),
    model: ModelFilter,
    keyId: KeyFilter,
    status: z.enum(["ok", "error"]).optional().describe('"ok": HTTP 2xx; "error": any other status.'),
    chatSessionId: z.string().min(1).max(100).optional().describe("Only the requests of this chat session."),
  })
  .strict();

const Ms = z.number().nullable();
const Percentiles = z.object({ p50: Ms, p95: Ms, p99: Ms });
const Breakdown = z.object({
  requests: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  successRate: z.number().nullable().describe("succeeded / requests, 0-1."),
  promptTokens: z.number(),
  completionTokens: z.number(),
  totalTokens: z.number(),
  latencyP50Ms: Ms,
  latencyP95Ms: Ms,
  ttftP50Ms: Ms,
});
const WeekView = z.object({
  from: z.string(),
  to: z.string(),
  requests: z.number(),
  totalTokens: z.number(),
});

const UsageView = z.object({
  window: z.object({ from: z.string(), to: z.string(), days: z.number() }),
  filters: z.object({ model: z.string().nullable(), keyId: z.string().nullable() }),
  totals: z.object({
    requests: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    successRate: z.number().nullable(),
    promptTokens: z.number(),
    completionTokens: z.number(),
    cachedTokens: z.number(),
    totalTokens: z.number(),
  }),
  latencyMs: Percentiles.describe("Duration of succeeded requests (ms), numpy linear percentiles."),
  ttftMs: Percentiles.describe("Time to first token (ms), over the requests that recorded one."),
  tokensPerRequest: z.object({
    requests: z.number(),
    prompt: z.number().nullable(),
    completion: z.number().nullable(),
    total: z.number().nullable(),
  }),
  byModel: z.array(Breakdown.extend({ model: z.string() })),
  byKey: z.array(
    Breakdown.extend({ keyId: z.string(), name: z.string().nullable(), prefix: z.string().nullable() }),
  ),
  days: z.array(
    z.object({
      date: z.string(),
      requests: z.number(),
      failures: z.number(),
      promptTokens: z.number(),
      completionTokens: z.number(),
      totalTokens: z.number(),
    }),
  ),
  hourly: z.array(z.object({ hour: z.number(), requests: z.number(), totalTokens: z.number() })),
  weekOverWeek: z.object({
    current: WeekView,
    previous: WeekView,
    requestsChangePercent: z.number().nullable(),
    tokensChangePercent: z.number().nullable(),
  }),
  energy: z.object({
    minutes: z.number(),
    joules: z.number(),
    wh: z.number(),
    whPerMillionTokens: z.number().nullable(),
  }),
});

const RequestRow = z.object({
  id: z.number(),
  requestId: z.string(),
  at: z.string(),
  apiKeyId: z.string().nullable(),
  keyName: z.string().nullable(),
  keyPrefix: z.string().nullable(),
  model: z.string(),
  instance: z.string().nullable(),
  endpoint: z.string(),
  stream: z.boolean(),
  status: z.number(),
  ok: z.boolean(),
  error: z.string().nullable(),
  promptTokens: z.number().nullable(),
  completionTokens: z.number().nullable(),
  cachedTokens: z.number().nullable(),
  ttftMs: z.number().nullable(),
  durationMs: z.number(),
  chatSessionId: z.string().nullable(),
});

/** The window [from, to] of a query: `from`/`to` when given, else the last `days` UTC days up to `to`. */
function windowOf(query: z.infer<typeof UsageQuery>, nowMs: number): { from: string; to: string } {
  const toMs = query.to === undefined ? nowMs : Date.parse(query.to);
  if (query.from === undefined) return lastDaysWindow(toMs, query.days);
  const fromMs = Date.parse(query.from);
  if (fromMs > toMs) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `querystring.from (${query.from}) is after the window end`,
      {
        details: { fields: [{ field: "querystring.from", message: "must not be after `to`" }] },
      },
    );
  }
  if (toMs - fromMs > MAX_DAYS * DAY_MS) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `querystring.from: the window is longer than ${MAX_DAYS} days`,
      {
        hint: `ask for at most ${MAX_DAYS} days at a time`,
        details: {
          fields: [{ field: "querystring.from", message: `at most ${MAX_DAYS} days before \`to\`` }],
        },
      },
    );
  }
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

export const usageModule: StudioModule = {
  name: "usage",

  routes(app, ctx) {
    const tags = ["usage"];

    app.get(
      "/api/usage",
      {
        schema: {
          tags,
          summary:
            "Usage analytics of a window: totals, latency and TTFT percentiles, per model and key, by day and hour, week over week, GPU energy per token.",
          querystring: UsageQuery,
          response: { 200: UsageView },
        },
      },
      async (request) => {
        const query = request.query;
        const window = windowOf(query, Date.now());
        const filters = { model: query.model, keyId: query.keyId };
        const [requests, energy] = await Promise.all([
          readUsageRequests(ctx.db, window, filters),
          readEnergyMinutes(ctx.db, window),
        ]);
        const filtered = query.model !== undefined || query.keyId !== undefined;
        return {
          ...computeUsage({ requests, energy, ...window, filtered }),
          filters: { model: query.model ?? null, keyId: query.keyId ?? null },
        };
      },
    );

    app.get(
      "/api/usage/requests",
      {
        schema: {
          tags,
          summary: "The gateway's request log, newest first, a page at a time (cursor: `before`).",
          querystring: RequestsQuery,
          response: {
            200: z.object({
              requests: z.array(RequestRow),
              nextBefore: z
                .number()
                .nullable()
                .describe("Pass as `before` for the next page; null on the last page."),
            }),
          },
        },
      },
      async (request) => readRequestPage(ctx.db, request.query),
    );
  },
};
