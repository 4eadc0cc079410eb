/**
 * Peak figures per model and lifetime totals, kept in memory and written to SQLite at most every
 * `flushMs` and at stop, so they survive a studio restart without a write per scrape.
 *
 * Lifetime keys: `<counter>` for the studio-wide total and `model:<model>:<counter>` per model, with
 * counter one of prompt_tokens, generation_tokens, requests, gpu_seconds, gpu_busy_seconds,
 * energy_wh (energy_wh is studio-wide only: GPUs are shared).
 *
 * With the totals, each engine process's counters as of the same moment (`engine_baselines`), so a
 * studio started later, even after a SIGKILL, counts every engine it finds from exactly where the
 * stored totals stop: tokens served while no studio ran, or after the last write, are not lost, and
 * none is counted twice.
 */
import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { DerivedEngineMetrics } from "../../core/metrics/engine-metrics.js";
import type { Exposition, Sample } from "../../core/metrics/prom-text.js";
import type { EngineBaseline, ScrapeTarget } from "../../runtime/metrics/engine-scraper.js";
import type { StudioDatabase } from "../db/schema.js";

export const LIFETIME_COUNTERS = [
  "prompt_tokens",
  "generation_tokens",
  "requests",
  "gpu_seconds",
  "gpu_busy_seconds",
  "energy_wh",
] as const;
export type LifetimeCounter = (typeof LIFETIME_COUNTERS)[number];

export interface PeakRecord {
  model: string;
  engine: string;
  promptTokensPerSecond: number | null;
  generationTokensPerSecond: number | null;
  ttftMs: number | null;
  tpotMs: number | null;
  maxRunningRequests: number | null;
  updatedAt: string;
}

export interface LifetimeTotals {
  totals: Record<LifetimeCounter, number>;
  models: Record<string, Partial<Record<LifetimeCounter, number>>>;
}

const MODEL_KEY = /^model:(.+):([a-z_]+)$/;

/** The family a sample belongs to (`x_total`, `x_bucket`, `x_sum`, `x_count` → `x`), for its TYPE. */
function familyType(exposition: Exposition, name: string): string | undefined {
  return exposition.types[name] ?? exposition.types[name.replace(/_(total|bucket|sum|count|created)$/, "")];
}

/** The samples counting resumes from (counters and histograms; gauges are read afresh), as JSON. */
export function baselineSamplesJson(exposition: Exposition): string {
  const kept = exposition.samples
    .filter((s) => Number.isFinite(s.value) && familyType(exposition, s.name) !== "gauge")
    .map((s) => [s.name, s.labels, s.value]);
  return JSON.stringify(kept);
}

/** The exposition stored by baselineSamplesJson. */
export function baselineExposition(json: string): Exposition {
  const rows = JSON.parse(json) as Array<[string, Record<string, string>, number]>;
  const samples: Sample[] = rows.map(([name, labels, value]) => ({ name, labels, value, timestampMs: null }));
  return { samples, help: {}, types: {}, errors: [] };
}

function higher(current: number | null, candidate: number | null): number | null {
  if (candidate === null || !Number.isFinite(candidate)) return current;
  return current === null || candidate > current ? candidate : current;
}

function lower(current: number | null, candidate: number | null): number | null {
  if (candidate === null || !Number.isFinite(candidate) || candidate <= 0) return current;
  return current === null || candidate < current ? candidate : current;
}

export class MetricsStore {
  private readonly peaks = new Map<string, PeakRecord>();
  private readonly dirtyPeaks = new Set<string>();
  private readonly lifetime = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private flushing: Promise<void> | null = null;
  /** Baselines read at load, by instance: where counting resumes for engine processes found running. */
  private readonly storedBaselines = new Map<string, EngineBaseline>();
  /** Scrape time of the baseline last written, by instance. */
  private readonly writtenBaselines = new Map<string, number>();
  private baselineSource: () => EngineBaseline[] = () => [];

  constructor(
    private readonly db: Kysely<StudioDatabase>,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    const peaks = await this.db.selectFrom("peak_metrics").selectAll().execute();
    for (const row of peaks) {
      this.peaks.set(row.model, {
        model: row.model,
        engine: row.engine,
        promptTokensPerSecond: row.prompt_tokens_per_second,
        generationTokensPerSecond: row.generation_tokens_per_second,
        ttftMs: row.ttft_ms,
        tpotMs: row.tpot_ms,
        maxRunningRequests: row.max_running_requests,
        updatedAt: row.updated_at,
      });
    }
    const rows = await this.db.selectFrom("lifetime_metrics").selectAll().execute();
    for (const row of rows) this.lifetime.set(row.key, row.value);
    const baselines = await this.db.selectFrom("engine_baselines").selectAll().execute();
    for (const row of baselines) {
      const scrapedAtMs = Date.parse(row.scraped_at);
      try {
        this.storedBaselines.set(row.instance, {
          instance: row.instance,
          readyAt: row.ready_at,
          scrapedAtMs,
          exposition: baselineExposition(row.samples),
        });
        this.writtenBaselines.set(row.instance, scrapedAtMs);
      } catch {
        // an unreadable row: that engine counts from zero
      }
    }
  }

  /** What was stored as counted of an instance's engine process (the scraper's `countedBefore`). */
  countedBefore(target: ScrapeTarget): EngineBaseline | null {
    return this.storedBaselines.get(target.instance) ?? null;
  }

  /** Where flushes read the engines' current baselines from (the scraper's `baselines()`). */
  setBaselineSource(source: () => EngineBaseline[]): void {
    this.baselineSource = source;
  }

  /** Records a derived scrape: beats peaks where it does. Returns true when a peak changed. */
  recordPeak(model: string, engine: string, metrics: DerivedEngineMetrics): boolean {
    const current = this.peaks.get(model) ?? {
      model,
      engine,
      promptTokensPerSecond: null,
      generationTokensPerSecond: null,
      ttftMs: null,
      tpotMs: null,
      maxRunningRequests: null,
      updatedAt: new Date(this.now()).toISOString(),
    };
    const next: PeakRecord = {
      ...current,
      engine,
      // a rate over an interval with nothing served is no figure to beat
      promptTokensPerSecond: higher(current.promptTokensPerSecond, metrics.promptTokensPerSecond),
      generationTokensPerSecond: higher(current.generationTokensPerSecond, metrics.generationTokensPerSecond),
      ttftMs: lower(current.ttftMs, metrics.ttft.meanMs),
      tpotMs: lower(current.tpotMs, metrics.tpot.meanMs),
      maxRunningRequests: higher(current.maxRunningRequests, metrics.runningRequests),
    };
    const changed =
      !this.peaks.has(model) ||
      next.promptTokensPerSecond !== current.promptTokensPerSecond ||
      next.generationTokensPerSecond !== current.generationTokensPerSecond ||
      next.ttftMs !== current.ttftMs ||
      next.tpotMs !== current.tpotMs ||
      next.maxRunningRequests !== current.maxRunningRequests;
    if (!changed) return false;
    next.updatedAt = new Date(this.now()).toISOString();
    this.peaks.set(model, next);
    this.dirtyPeaks.add(model);
    return true;
  }

  /** Adds to a lifetime counter (studio-wide, and for the model when given). */
  add(counter: LifetimeCounter, amount: number, model?: string): void {
    if (!Number.isFinite(amount) || amount <= 0) return;
    const keys = model === undefined ? [counter] : [counter, `model:${model}:${counter}`];
    for (const key of keys) this.pending.set(key, (this.pending.get(key) ?? 0) + amount);
  }

  peakList(): PeakRecord[] {
    return [...this.peaks.values()].sort((a, b) => a.model.localeCompare(b.model));
  }

  /** Persisted totals plus what is not flushed yet. */
  totals(): LifetimeTotals {
    const all = new Map(this.lifetime);
    for (const [key, value] of this.pending) all.set(key, (all.get(key) ?? 0) + value);
    const totals = Object.fromEntries(LIFETIME_COUNTERS.map((c) => [c, 0])) as Record<
      LifetimeCounter,
      number
    >;
    const models: LifetimeTotals["models"] = {};
    for (const [key, value] of all) {
      const match = MODEL_KEY.exec(key);
      if (match !== null) {
        const [, model, counter] = match as unknown as [string, string, LifetimeCounter];
        if (!(LIFETIME_COUNTERS as readonly string[]).includes(counter)) continue;
        models[model] ??= {};
        (models[model] as Partial<Record<LifetimeCounter, number>>)[counter] = value;
      } else if ((LIFETIME_COUNTERS as readonly string[]).includes(key)) {
        totals[key as LifetimeCounter] = value;
      }
    }
    return { totals, models };
  }

  /** Writes dirty peaks and pending increments in one transaction (serialised). */
  flush(): Promise<void> {
    const run = async () => {
      // the baselines match the increments: both are taken now, in the same turn, and every scrape
      // adds its increments in the turn it becomes a baseline
      const baselines = this.baselineSource().filter(
        (b) => this.writtenBaselines.get(b.instance) !== b.scrapedAtMs,
      );
      if (this.dirtyPeaks.size === 0 && this.pending.size === 0 && baselines.length === 0) return;
      const peaks = [...this.dirtyPeaks].flatMap((m) => {
        const p = this.peaks.get(m);
        return p === undefined ? [] : [p];
      });
      const increments = [...this.pending.entries()];
      this.dirtyPeaks.clear();
      this.pending.clear();
      const updatedAt = new Date(this.now()).toISOString();
      try {
        await this.db.transaction().execute(async (trx) => {
          for (const p of peaks) {
            const row = {
              model: p.model,
              engine: p.engine,
              prompt_tokens_per_second: p.promptTokensPerSecond,
              generation_tokens_per_second: p.generationTokensPerSecond,
              ttft_ms: p.ttftMs,
              tpot_ms: p.tpotMs,
              max_running_requests: p.maxRunningRequests,
              updated_at: p.updatedAt,
            };
            const { model: _model, ...update } = row;
            await trx
              .insertInto("peak_metrics")
              .values(row)
              .onConflict((oc) => oc.column("model").doUpdateSet(update))
              .execute();
          }
          for (const [key, amount] of increments) {
            await trx
              .insertInto("lifetime_metrics")
              .values({ key, value: amount, updated_at: updatedAt })
              .onConflict((oc) =>
                oc.column("key").doUpdateSet({
                  value: sql<number>`lifetime_metrics.value + excluded.value`,
                  updated_at: updatedAt,
                }),
              )
              .execute();
          }
          for (const b of baselines) {
            const row = {
              instance: b.instance,
              ready_at: b.readyAt,
              scraped_at: new Date(b.scrapedAtMs).toISOString(),
              samples: baselineSamplesJson(b.exposition),
            };
            const { instance: _instance, ...update } = row;
            await trx
              .insertInto("engine_baselines")
              .values(row)
              .onConflict((oc) => oc.column("instance").doUpdateSet(update))
              .execute();
          }
        });
        for (const b of baselines) this.writtenBaselines.set(b.instance, b.scrapedAtMs);
        for (const [key, amount] of increments)
          this.lifetime.set(key, (this.lifetime.get(key) ?? 0) + amount);
      } catch (error) {
        // keep what was not written for the next flush
        for (const p of peaks) this.dirtyPeaks.add(p.model);
        for (const [key, amount] of increments) this.pending.set(key, (this.pending.get(key) ?? 0) + amount);
        throw error;
      }
    };
    const next = (this.flushing ?? Promise.resolve()).catch(() => undefined).then(run);
    this.flushing = next;
    next
      .finally(() => {
        if (this.flushing === next) this.flushing = null;
      })
      .catch(() => undefined);
    return next;
  }
}
