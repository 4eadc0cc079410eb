/**
 * Benchmarks run by the studio: each is a background job that sends its load through the studio's
 * own gateway (`${ctx.baseUrl}/v1`, routed by model), reports progress as `benchmark` events, stores
 * its settings, planned estimate and results in `benchmarks`, and, when done, offers its figures to
 * the model's peak metrics (which keep only improvements). Jobs still running when the studio stops
 * are cancelled and marked so.
 */
import { randomBytes } from "node:crypto";
import type { BenchSettings } from "../../core/bench/settings.js";
import { ServepilotError } from "../../core/errors.js";
import type { DerivedEngineMetrics } from "../../core/metrics/engine-metrics.js";
import { type BenchmarkResult, plannedEstimate, runBenchmark } from "../../runtime/bench/run.js";
import { servesModel } from "../../runtime/bench/target.js";
import type { InstanceRecord } from "../../runtime/supervisor/instance.js";
import { listInstances } from "../../runtime/supervisor/state-store.js";
import { internalGatewayHeaders, type StudioContext } from "../context.js";
import { MetricsStore } from "../metrics/persistence.js";
import { BenchmarkStore, type BenchmarkView } from "./store.js";

interface Job {
  id: string;
  model: string;
  controller: AbortController;
  done: Promise<void>;
  completed: number;
  failed: number;
  total: number;
}

/** The figures a finished benchmark offers to the peak metrics, in the scraper's shape. */
export function peakFigures(result: BenchmarkResult): DerivedEngineMetrics {
  const { summary } = result;
  const seconds = summary.wallSeconds > 0 ? summary.wallSeconds : null;
  return {
    model: result.target.model,
    intervalSeconds: seconds,
    promptTokensPerSecond:
      seconds === null || summary.totalPromptTokens === 0 ? null : summary.totalPromptTokens / seconds,
    generationTokensPerSecond: summary.outputTokensPerSecond,
    promptTokens: summary.totalPromptTokens,
    generationTokens: summary.totalOutputTokens,
    ttft: { meanMs: summary.ttftMs.mean, p50Ms: summary.ttftMs.p50, p95Ms: summary.ttftMs.p95 },
    tpot: { meanMs: summary.tpotMs.mean, p50Ms: summary.tpotMs.p50, p95Ms: summary.tpotMs.p95 },
    runningRequests: null,
    waitingRequests: null,
    kvCacheUsagePercent: null,
    preemptionsPerSecond: null,
    prefixCacheHitPercent: null,
    requestsCompleted: summary.requests.succeeded,
    requestsPerSecond: summary.requestsPerSecond,
  };
}

export class BenchmarkRunner {
  readonly store: BenchmarkStore;
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly ctx: StudioContext) {
    this.store = new BenchmarkStore(ctx.db);
  }

  /** Starts a benchmark of the running instance that serves `model`; answers once it is recorded. */
  async start(model: string, settings: BenchSettings): Promise<{ id: string; status: "running" }> {
    if (this.ctx.closing) {
      throw new ServepilotError("CONFLICT", "the studio is shutting down: no new benchmark");
    }
    const records = await listInstances(this.ctx.dataDir);
    const instance = records.find((r) => r.status === "ready" && servesModel(r, model));
    if (instance === undefined) {
      const serving = records.filter((r) => r.status === "ready").map((r) => r.servedModelName);
      throw new ServepilotError("NOT_FOUND", `no running instance serves model "${model}"`, {
        hint:
          serving.length > 0
            ? `running: ${serving.join(", ")}`
            : "launch one first (POST /api/instances), then benchmark it",
      });
    }
    const id = `bench-${randomBytes(6).toString("hex")}`;
    const now = new Date().toISOString();
    await this.store.insert({
      id,
      model: instance.servedModelName,
      target: instance.name,
      settings: JSON.stringify(settings),
      results: null,
      planned: null,
      status: "running",
      error: null,
      created_at: now,
      finished_at: null,
    });
    const controller = new AbortController();
    const job: Job = {
      id,
      model: instance.servedModelName,
      controller,
      done: Promise.resolve(),
      completed: 0,
      failed: 0,
      total: settings.requests,
    };
    this.jobs.set(id, job);
    this.publish(job, "running");
    job.done = this.run(job, instance, settings).finally(() => this.jobs.delete(id));
    return { id, status: "running" };
  }

  private publish(job: Job, status: BenchmarkView["status"], extra: Record<string, unknown> = {}): void {
    if (this.ctx.closing && status === "running") return;
    this.ctx.events.publish("benchmark", {
      id: job.id,
      model: job.model,
      status,
      completed: job.completed,
      failed: job.failed,
      total: job.total,
      ...extra,
    });
  }

  private async run(job: Job, instance: InstanceRecord, settings: BenchSettings): Promise<void> {
    const { ctx } = this;
    try {
      const planned = await plannedEstimate(instance, settings, { dataDir: ctx.dataDir, env: ctx.env });
      await this.store.update(job.id, {
        planned: JSON.stringify({ figures: planned.figures, unavailable: planned.unavailable }),
      });
      const result = await runBenchmark({
        baseUrl: `${ctx.baseUrl}/v1`,
        model: instance.servedModelName,
        instance,
        settings,
        headers: internalGatewayHeaders(ctx),
        signal: job.controller.signal,
        planned,
        dataDir: ctx.dataDir,
        env: ctx.env,
        onProgress: (p) => {
          job.completed = p.completed;
          job.failed = p.failed;
          this.publish(job, "running");
        },
      });
      const finishedAt = new Date().toISOString();
      if (result.cancelled) {
        await this.store.update(job.id, {
          status: "cancelled",
          results: JSON.stringify(result),
          error: ctx.closing ? "the studio stopped while it ran" : "cancelled",
          finished_at: finishedAt,
        });
        this.publish(job, "cancelled");
        return;
      }
      await this.store.update(job.id, {
        status: "done",
        results: JSON.stringify(result),
        finished_at: finishedAt,
      });
      await this.recordPeak(instance, result);
      this.publish(job, "done", { summary: result.summary, comparison: result.comparison });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      ctx.log.warn({ err: error, benchmark: job.id }, "benchmark failed");
      await this.store
        .update(job.id, { status: "failed", error: message, finished_at: new Date().toISOString() })
        .catch((e: unknown) => ctx.log.error({ err: e }, "benchmark: recording the failure failed"));
      this.publish(job, "failed", { error: message });
    }
  }

  /**
   * Offers the measured figures to the model's peak metrics through the metrics module's own store
   * logic (persistence.ts): higher tokens/s, lower TTFT and TPOT replace the stored ones.
   */
  private async recordPeak(instance: InstanceRecord, result: BenchmarkResult): Promise<void> {
    try {
      // the metrics module's store when it runs (one writer of peak_metrics), else a store of our own
      const shared = this.ctx.services.peaks;
      const store = shared ?? new MetricsStore(this.ctx.db);
      if (shared === undefined) await store.load();
      if (store.recordPeak(instance.servedModelName, instance.engine, peakFigures(result)))
        await store.flush();
    } catch (error) {
      this.ctx.log.error({ err: error }, "benchmark: recording peak metrics failed");
    }
  }

  /** Cancels a running benchmark; answers its row once it is marked. */
  async cancel(id: string): Promise<BenchmarkView> {
    const job = this.jobs.get(id);
    if (job === undefined) {
      const view = await this.store.get(id);
      throw new ServepilotError("CONFLICT", `benchmark ${id} is not running (it is ${view.status})`);
    }
    job.controller.abort();
    await job.done;
    return this.store.get(id);
  }

  async remove(id: string): Promise<{ id: string; deleted: true }> {
    const view = await this.store.get(id);
    if (this.jobs.has(id) || view.status === "running") {
      throw new ServepilotError("CONFLICT", `benchmark ${id} is running`, {
        hint: `cancel it first: POST /api/benchmarks/${id}/cancel`,
      });
    }
    await this.store.remove(id);
    return { id, deleted: true };
  }

  /** Live progress of a running benchmark (null when it is not running here). */
  progressOf(id: string): { completed: number; failed: number; total: number } | null {
    const job = this.jobs.get(id);
    return job === undefined ? null : { completed: job.completed, failed: job.failed, total: job.total };
  }

  /** Marks rows a previous studio left `running` (it stopped without cancelling them). */
  async recoverInterrupted(): Promise<void> {
    if (this.jobs.size > 0) return;
    await this.store.markInterrupted(new Date().toISOString());
  }

  /** Studio stop: cancels every running benchmark and waits until each is marked cancelled. */
  async shutdown(): Promise<void> {
    const jobs = [...this.jobs.values()];
    for (const job of jobs) job.controller.abort();
    await Promise.all(jobs.map((job) => job.done.catch(() => undefined)));
  }
}
