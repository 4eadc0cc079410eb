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

/** An engine process's counters at the last write of the lifetime totals (see migration 0004). */
export interface EngineBaselinesTable {
  instance: string;
  /** The instance record's readyAt: identifies the engine process. */
  ready_at: string;
  scraped_at: string;
  /** JSON: the scrape's counter and histogram samples, [name, labels, value][]. */
  samples: string;
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

/** Gateway API keys: only a SHA-256 hash is kept; `prefix` (the first characters) identifies it in lists. */
export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  /** "gateway": the key may call /v1 only (the admin key from --api-key manages everything). */
  scope: "gateway";
  rate_limit_per_minute: number | null;
  /** Total tokens (prompt + completion) the key may use; null: no quota. */
  token_quota: number | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Every request through the gateway. */
export interface RequestsTable {
  id: Generated<number>;
  /** The studio's request id (X-Request-Id). */
  request_id: string;
  /** ISO time the request arrived. */
  at: string;
  /** null: the admin key, or no key on loopback. */
  api_key_id: string | null;
  model: string;
  instance: string | null;
  /** "chat.completions", "completions", "embeddings", "tokenize", … */
  endpoint: string;
  stream: number;
  /** HTTP status returned to the client. */
  status: number;
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  ttft_ms: number | null;
  duration_ms: number;
  chat_session_id: string | null;
}

export interface ChatSessionsTable {
  id: string;
  title: string;
  model: string | null;
  forked_from_session_id: string | null;
  forked_from_message_id: string | null;
  created_at: string;
  updated_at: string;
}

/** Messages in order of `seq` (1, 2, 3 … per session), never by timestamp. */
export interface ChatMessagesTable {
  id: string;
  session_id: string;
  seq: number;
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  reasoning_content: string | null;
  /** JSON text of OpenAI tool_calls. */
  tool_calls: string | null;
  tool_call_id: string | null;
  request_id: string | null;
  created_at: string;
}

/** Images attached to a chat message (user messages, for vision-language models). */
export interface ChatAttachmentsTable {
  id: string;
  session_id: string;
  message_id: string;
  /** Order within the message, from 0. */
  idx: number;
  media_type: string;
  bytes: number;
  data: Buffer;
  created_at: string;
}

export interface McpServersTable {
  id: string;
  name: string;
  transport: "stdio" | "http";
  /** JSON argv for stdio servers (program first; never run through a shell). */
  command: string | null;
  url: string | null;
  /** JSON object of extra environment for stdio servers. */
  env: string;
  /** "always": every call needs approval; "never": calls run directly. */
  approval: string;
  timeout_ms: number;
  enabled: number;
  created_at: string;
}

export interface BenchmarksTable {
  id: string;
  model: string;
  /** The instance name or endpoint URL measured. */
  target: string;
  /** JSON: concurrency, prompt and output lengths, requests. */
  settings: string;
  /** JSON: TTFT / TPOT / tokens/s with percentiles. */
  results: string | null;
  /** JSON: the planner's estimate for the same workload. */
  planned: string | null;
  status: "running" | "done" | "failed" | "cancelled";
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** GPU energy per minute (all GPUs), from the sampler, for energy-per-token analytics. */
export interface GpuEnergyTable {
  /** ISO minute, e.g. 2026-11-22T15:04Z. */
  minute: string;
  joules: number;
}

export interface StudioDatabase {
  recipes: RecipesTable;
  launches: LaunchesTable;
  instance_failures: InstanceFailuresTable;
  plan_vs_actual: PlanVsActualTable;
  peak_metrics: PeakMetricsTable;
  lifetime_metrics: LifetimeMetricsTable;
  engine_baselines: EngineBaselinesTable;
  downloads: DownloadsTable;
  api_keys: ApiKeysTable;
  requests: RequestsTable;
  chat_sessions: ChatSessionsTable;
  chat_messages: ChatMessagesTable;
  chat_attachments: ChatAttachmentsTable;
  mcp_servers: McpServersTable;
  benchmarks: BenchmarksTable;
  gpu_energy: GpuEnergyTable;
}
