/**
 * Scrapes GET <endpoint>/metrics of every live engine at a fixed interval and derives serving
 * figures from consecutive scrapes (core/metrics/engine-metrics.ts). A scrape that fails (refused,
 * timeout, HTTP error) marks that instance's figures stale and never stops the loop; ticks never
 * overlap (a slow round skips ticks instead of stacking them).
 */
import {
  type DerivedEngineMetrics,
  deriveEngineMetrics,
  type EngineMetricMaps,
  pickModel,
} from "../../core/metrics/engine-metrics.js";
import { type Exposition, parsePromText } from "../../core/metrics/prom-text.js";
import { PeriodicTask } from "../periodic-task.js";
import { isActiveStatus } from "../supervisor/instance.js";
import { listInstances } from "../supervisor/state-store.js";
import { type MonotonicClock, monotonicNow } from "./clock.js";

export interface ScrapeTarget {
  instance: string;
  /** The served model name (what the engine labels its series with). */
  model: string;
  engine: string;
  /** http://host:port (no path). */
  endpoint: string;
  /** GPUs the instance runs on (physical indices), for per-model GPU time. */
  gpuIndices: number[];
  /** When the engine became ready (ISO), if recorded. */
  readyAt?: string | null;
}

export interface InstanceMetrics {
  instance: string;
  model: string;
  engine: string;
  endpoint: string;
  /** ISO time of the last successful scrape. */
  scrapedAt: string | null;
  /** The last scrape failed: the figures are from an earlier one (or absent). */
  stale: boolean;
  error: string | null;
  /** Lines of the last exposition that could not be read (the rest still counted). */
  parseErrors: number;
  metrics: DerivedEngineMetrics | null;
}

/** An engine process's counters at one scrape: where counting resumes from. */
export interface EngineBaseline {
  instance: string;
  /** The engine process's readyAt (ISO), which tells one process from the next. */
  readyAt: string;
  /** Wall time of the scrape (ms). */
  scrapedAtMs: number;
  exposition: Exposition;
}

export type FetchText = (url: string, signal: AbortSignal) => Promise<string>;

export interface EngineScraperOptions {
  maps: EngineMetricMaps;
  /** The instances to scrape now (called every round). */
  targets: () => Promise<ScrapeTarget[]>;
  intervalMs: number;
  /** Per-request limit (default: the interval, at most 5 s, at least 250 ms). */
  timeoutMs?: number;
  fetchText?: FetchText;
  clock?: MonotonicClock;
  wallNow?: () => number;
  /**
   * What was persisted as counted of an engine process, for its first scrape by this scraper. With
   * it, a target with a `readyAt` resumes from the baseline returned for that same process (same
   * `readyAt`), or else counts its counters from zero since it became ready (nothing it served was
   * persisted as counted). Without it, or without a `readyAt`, the first scrape is the baseline.
   */
  countedBefore?: (target: ScrapeTarget) => EngineBaseline | null;
  /** Every scrape's outcome, success or failure. */
  onResult?: (result: InstanceMetrics) => void;
  /** After each round, with every live instance's outcome. */
  onRound?: (results: InstanceMetrics[]) => void;
  /** The target list could not be read. */
  onTargetsError?: (error: unknown) => void;
}

interface InstanceState {
  target: ScrapeTarget;
  previous: { exposition: Exposition; atMs: number } | null;
  latest: InstanceMetrics;
}

/** A scrape of an engine that has counted nothing yet. */
const EMPTY_EXPOSITION: Exposition = parsePromText("");

async function defaultFetchText(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal, headers: { accept: "text/plain; version=0.0.4" } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return text;
}

/** The scrape targets from the instance records: instances meant to run that an engine serves. */
export async function liveInstanceTargets(
  dataDir: string,
  engines: readonly string[],
): Promise<ScrapeTarget[]> {
  const records = await listInstances(dataDir);
  return records
    .filter(
      (r) =>
        (r.status === "ready" || (isActiveStatus(r.status) && r.readyAt !== null)) &&
        engines.includes(r.engine),
    )
    .map((r) => ({
      instance: r.name,
      model: r.servedModelName,
      engine: r.engine,
      endpoint: r.endpoint,
      gpuIndices: r.gpus.map((g) => g.index),
      readyAt: r.readyAt,
    }));
}

export class EngineScraper {
  private readonly states = new Map<string, InstanceState>();
  /** The last scrape of each engine process counted, by instance (see baselines()). */
  private readonly seen = new Map<string, EngineBaseline>();
  private readonly fetchText: FetchText;
  private readonly clock: MonotonicClock;
  private readonly wallNow: () => number;
  private readonly timeoutMs: number;
  private readonly task: PeriodicTask<InstanceMetrics[]>;

  constructor(private readonly options: EngineScraperOptions) {
    this.fetchText = options.fetchText ?? defaultFetchText;
    this.clock = options.clock ?? monotonicNow;
    this.wallNow = options.wallNow ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? Math.max(250, Math.min(5000, options.intervalMs));
    this.task = new PeriodicTask(options.intervalMs, () => this.round());
  }

  /** Ticks skipped because the previous round was still running. */
  get skippedTicks(): number {
    return this.task.skippedTicks;
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One round over every target (joins the round in flight, if any). */
  scrapeOnce(): Promise<InstanceMetrics[]> {
    return this.task.runNow();
  }

  latest(): InstanceMetrics[] {
    return [...this.states.values()]
      .map((s) => s.latest)
      .sort((a, b) => a.instance.localeCompare(b.instance));
  }

  latestFor(instance: string): InstanceMetrics | null {
    return this.states.get(instance)?.latest ?? null;
  }

  targets(): ScrapeTarget[] {
    return [...this.states.values()].map((s) => s.target);
  }

  private async round(): Promise<InstanceMetrics[]> {
    let targets: ScrapeTarget[];
    try {
      targets = (await this.options.targets()).filter((t) => this.options.maps[t.engine] !== undefined);
    } catch (error) {
      this.options.onTargetsError?.(error);
      return this.latest();
    }
    const names = new Set(targets.map((t) => t.instance));
    for (const name of this.states.keys()) if (!names.has(name)) this.states.delete(name);
    const results = await Promise.all(targets.map((target) => this.scrape(target)));
    for (const result of results) {
      try {
        this.options.onResult?.(result);
      } catch {
        // a listener's failure is the listener's business
      }
    }
    try {
      this.options.onRound?.(results);
    } catch {
      // likewise
    }
    return results;
  }

  private stateFor(target: ScrapeTarget): InstanceState {
    let state = this.states.get(target.instance);
    const changed =
      state !== undefined &&
      (state.target.endpoint !== target.endpoint ||
        state.target.engine !== target.engine ||
        state.target.model !== target.model ||
        // a new readyAt is a new engine process (a restart on the same port): new counters
        (state.target.readyAt ?? null) !== (target.readyAt ?? null));
    if (state === undefined || changed) {
      state = {
        target,
        previous: null,
        latest: {
          instance: target.instance,
          model: target.model,
          engine: target.engine,
          endpoint: target.endpoint,
          scrapedAt: null,
          stale: true,
          error: null,
          parseErrors: 0,
          metrics: null,
        },
      };
      this.states.set(target.instance, state);
    }
    state.target = target;
    return state;
  }

  /**
   * Where a first scrape counts from (see `countedBefore`): what this scraper last saw of the same
   * process (a target that dropped out of the list and came back), what was persisted, or zero. Rates
   * average over the time since then, at least one interval (clocks may disagree by a little).
   */
  private startingPoint(target: ScrapeTarget): { exposition: Exposition; seconds: number } | null {
    const readyMs = target.readyAt ? Date.parse(target.readyAt) : Number.NaN;
    if (this.options.countedBefore === undefined || !Number.isFinite(readyMs)) return null;
    const seen = this.seen.get(target.instance);
    const from =
      seen !== undefined && seen.readyAt === target.readyAt ? seen : this.options.countedBefore(target);
    const same = from !== null && from.readyAt === target.readyAt;
    const sinceMs = same ? from.scrapedAtMs : readyMs;
    return {
      exposition: same ? from.exposition : EMPTY_EXPOSITION,
      seconds: Math.max((this.wallNow() - sinceMs) / 1000, this.options.intervalMs / 1000),
    };
  }

  /** The last scrape of every engine process this scraper has counted (kept when a target leaves). */
  baselines(): EngineBaseline[] {
    return [...this.seen.values()];
  }

  private async scrape(target: ScrapeTarget): Promise<InstanceMetrics> {
    const state = this.stateFor(target);
    const map = this.options.maps[target.engine];
    if (map === undefined) return state.latest;
    const url = `${target.endpoint.replace(/\/+$/, "")}/metrics`;
    let text: string;
    try {
      text = await this.fetchText(url, AbortSignal.timeout(this.timeoutMs));
    } catch (error) {
      const reason =
        (error as Error).name === "TimeoutError"
          ? `GET ${url}: no answer within ${this.timeoutMs} ms`
          : (error as Error).message || String(error);
      state.latest = { ...state.latest, stale: true, error: reason };
      return state.latest;
    }
    const atMs = this.clock();
    const exposition = parsePromText(text);
    const start = state.previous === null ? this.startingPoint(target) : null;
    const derived = pickModel(
      deriveEngineMetrics({
        map,
        before: start?.exposition ?? state.previous?.exposition ?? null,
        after: exposition,
        elapsedSeconds:
          start?.seconds ?? (state.previous === null ? null : (atMs - state.previous.atMs) / 1000),
      }),
      target.model,
    );
    const wallMs = this.wallNow();
    state.previous = { exposition, atMs };
    if (target.readyAt) {
      this.seen.set(target.instance, {
        instance: target.instance,
        readyAt: target.readyAt,
        scrapedAtMs: wallMs,
        exposition,
      });
    }
    state.latest = {
      ...state.latest,
      scrapedAt: new Date(wallMs).toISOString(),
      stale: false,
      error: null,
      parseErrors: exposition.errors.length,
      metrics: derived,
    };
    return state.latest;
  }
}
