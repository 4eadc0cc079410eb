/**
 * The studio's SQLite tables, as Kysely sees them. Each table is created by a migration in
 * migrations.ts; a column added here without a migration is a bug the migration test catches.
 * Times are ISO-8601 strings (UTC); JSON columns hold text validated by the code that owns them.
 */
import type { Generated } from "kysely";

export interface RecipesTable {
  id: string;
  /** The recipe document (JSON text), validated by core/recipes/recipe.ts. */
  body: string;
  created_at: string;
  updated_at: string;
}

/** What the studio launched and how, so that the watchdog and `--restore` can start it again. */
export interface LaunchesTable {
  /** The instance name. */
  name: string;
  /** The launch request (JSON text). */
  request: string;
  /** "running" while the operator wants it up; "stopped" once it was stopped on purpose. */
  desired_state: "running" | "stopped";
  /** 1 when the watchdog restarts it after it dies. */
  auto_restart: number;
  created_at: string;
  updated_at: string;
}

/** Watchdog restarts and the failures that caused them (the failure budget counts these). */
export interface InstanceFailuresTable {
  id: Generated<number>;
  name: string;
  at: string;
  cause: string;
  message: string;
}

/** The planner's figures against the engine's, per launch (kept after the instance is gone). */
export interface PlanVsActualTable {
  id: Generated<number>;
  name: string;
  model: string;
  engine: string;
  metric: string;
  planned: number;
  actual: number;
  error_percent: number;
  recorded_at: string;
}

/** The best figures each model reached while served (engine /metrics). */
export interface PeakMetricsTable {
  model: string;
  engine: string;
  prompt_tokens_per_second: number | null;
  generation_tokens_per_second: number | null;
  /** Lowest mean TTFT / TPOT seen over a scrape interval (ms). */
  ttft_ms: number | null;
  tpot_ms: number | null;
  max_running_requests: number | null;
  updated_at: string;
}

/** Counters that only grow over the studio's life: tokens, requests, energy, GPU time. */
export interface LifetimeMetricsTable {
  key: string;
  value: number;
  updated_at: string;
}

/** Model downloads into the Hugging Face cache, run as jobs. */
export interface DownloadsTable {
  id: string;
  repo: string;
  revision: string;
  status: "queued" | "running" | "done" | "failed" | "cancelled";
  bytes_done: number;
  bytes_total: number | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface StudioDatabase {
  recipes: RecipesTable;
  launches: LaunchesTable;
  instance_failures: InstanceFailuresTable;
  plan_vs_actual: PlanVsActualTable;
  peak_metrics: PeakMetricsTable;
  lifetime_metrics: LifetimeMetricsTable;
  downloads: DownloadsTable;
}
