/**
 * Benchmarks over HTTP: start one against a running model (202 at once; progress as `benchmark`
 * events), list, inspect, cancel and delete them. The runs themselves are benchmarks/runner.ts;
 * docs/bench-command.md defines the figures.
 */
import { z } from "zod";
import { BENCH_LIMITS, type BenchSettingNames, resolveBenchSettings } from "../../core/bench/settings.js";
import { ServepilotError } from "../../core/errors.js";
import { BenchmarkRunner } from "../benchmarks/runner.js";
import type { StudioContext, StudioModule } from "../context.js";

const API_NAMES: BenchSettingNames = {
  concurrency: "concurrency",
  requests: "requests",
  promptTokens: "promptTokens",
  outputTokens: "outputTokens",
};

const count = (limit: number, what: string) => z.number().int().min(1).max(limit).optional().describe(what);

const StartBody = z
  .object({
    model: z
      .string()
      .min(1)
      .max(512)
      .describe("A running model: its served name, model id or instance name (as the gateway routes)."),
    concurrency: count(BENCH_LIMITS.concurrency, "Requests in flight at once (default 1)."),
    requests: count(BENCH_LIMITS.requests, "Measured requests (default 8 x concurrency)."),
    promptTokens: count(BENCH_LIMITS.promptTokens, "Synthetic prompt length in tokens (default 512)."),
    outputTokens: count(BENCH_LIMITS.outputTokens, "Tokens generated per request (default 128)."),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(64) }).strict();

const ListQuery = z
  .object({
    model: z.string().min(1).max(512).optional().describe("Only this model's benchmarks."),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe("At most this many (newest first)."),
  })
  .strict();

const runners = new WeakMap<StudioContext, BenchmarkRunner>();

function runnerOf(ctx: StudioContext): BenchmarkRunner {
  const runner = runners.get(ctx);
  if (runner === undefined) throw new ServepilotError("INTERNAL", "the benchmarks module was not set up");
  return runner;
}

export const benchmarksModule: StudioModule = {
  name: "benchmarks",
  routes(app, ctx) {
    const runner = new BenchmarkRunner(ctx);
    runners.set(ctx, runner);
    const tags = ["benchmarks"];

    app.post(
      "/api/benchmarks",
      {
        schema: {
          tags,
          summary: "Benchmark a running model through the gateway. Answers 202; follow it on /api/events.",
          description:
            "Events: `benchmark` {id, model, status, completed, failed, total} as requests end, and once more when it is done (with summary and comparison), failed (with error) or cancelled.",
          body: StartBody,
        },
      },
      async (request, reply) => {
        const { model, ...given } = request.body;
        const settings = resolveBenchSettings(
          Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
          API_NAMES,
        );
        return reply.status(202).send(await runner.start(model, settings));
      },
    );

    app.get(
      "/api/benchmarks",
      {
        schema: {
          tags,
          summary: "Benchmarks, newest first (optionally one model's).",
          querystring: ListQuery,
        },
      },
      async (request) => {
        const benchmarks = await runner.store.list({
          model: request.query.model,
          limit: request.query.limit,
        });
        return {
          benchmarks: benchmarks.map((b) => ({ ...b, progress: runner.progressOf(b.id) })),
          count: benchmarks.length,
        };
      },
    );

    app.get(
      "/api/benchmarks/:id",
      {
        schema: {
          tags,
          summary: "One benchmark: settings, planned estimate, results (and live progress while it runs).",
          params: IdParams,
        },
      },
      async (request) => {
        const view = await runner.store.get(request.params.id);
        return { ...view, progress: runner.progressOf(view.id) };
      },
    );

    app.post(
      "/api/benchmarks/:id/cancel",
      {
        schema: {
          tags,
          summary: "Cancel a running benchmark (requests in flight are dropped).",
          params: IdParams,
        },
      },
      async (request) => runner.cancel(request.params.id),
    );

    app.delete(
      "/api/benchmarks/:id",
      {
        schema: {
          tags,
          summary: "Delete a finished benchmark (a running one is cancelled first by /cancel).",
          params: IdParams,
        },
      },
      async (request) => runner.remove(request.params.id),
    );
  },
  async start(ctx) {
    await runnerOf(ctx).recoverInterrupted();
  },
  async stop(ctx) {
    await runners.get(ctx)?.shutdown();
  },
};
