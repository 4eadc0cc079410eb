/**
 * Versioned schema migrations, applied in order at studio start (Kysely's Migrator records the
 * applied ones in `kysely_migration`). Never edit a released migration: add the next one.
 */
import type { Kysely, Migration, MigrationProvider } from "kysely";
import { sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types
type AnyDb = Kysely<any>;

const migration0001: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("recipes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("launches")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("request", "text", (c) => c.notNull())
      .addColumn("desired_state", "text", (c) =>
        c.notNull().check(sql`desired_state in ('running', 'stopped')`),
      )
      .addColumn("auto_restart", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("instance_failures")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("cause", "text", (c) => c.notNull())
      .addColumn("message", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("instance_failures_name_at")
      .on("instance_failures")
      .columns(["name", "at"])
      .execute();
    await db.schema
      .createTable("plan_vs_actual")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("engine", "text", (c) => c.notNull())
      .addColumn("metric", "text", (c) => c.notNull())
      .addColumn("planned", "real", (c) => c.notNull())
      .addColumn("actual", "real", (c) => c.notNull())
      .addColumn("error_percent", "real", (c) => c.notNull())
      .addColumn("recorded_at", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("plan_vs_actual_name").on("plan_vs_actual").column("name").execute();
    await db.schema
      .createTable("peak_metrics")
      .addColumn("model", "text", (c) => c.primaryKey())
      .addColumn("engine", "text", (c) => c.notNull())
      .addColumn("prompt_tokens_per_second", "real")
      .addColumn("generation_tokens_per_second", "real")
      .addColumn("ttft_ms", "real")
      .addColumn("tpot_ms", "real")
      .addColumn("max_running_requests", "real")
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("lifetime_metrics")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "real", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("downloads")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("repo", "text", (c) => c.notNull())
      .addColumn("revision", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("bytes_done", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("bytes_total", "integer")
      .addColumn("error", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("finished_at", "text")
      .execute();
  },
};

/** The gateway and what builds on it: API keys, request log, chats, MCP servers, benchmarks, energy. */
const migration0002: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("api_keys")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("prefix", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull().unique())
      .addColumn("scope", "text", (c) => c.notNull().check(sql`scope in ('gateway')`))
      .addColumn("rate_limit_per_minute", "integer")
      .addColumn("token_quota", "integer")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .addColumn("last_used_at", "text")
      .execute();
    await db.schema
      .createTable("requests")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("request_id", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("api_key_id", "text")
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("instance", "text")
      .addColumn("endpoint", "text", (c) => c.notNull())
      .addColumn("stream", "integer", (c) => c.notNull())
      .addColumn("status", "integer", (c) => c.notNull())
      .addColumn("error", "text")
      .addColumn("prompt_tokens", "integer")
      .addColumn("completion_tokens", "integer")
      .addColumn("cached_tokens", "integer")
      .addColumn("ttft_ms", "real")
      .addColumn("duration_ms", "real", (c) => c.notNull())
      .addColumn("chat_session_id", "text")
      .execute();
    await db.schema.createIndex("requests_at").on("requests").column("at").execute();
    await db.schema.createIndex("requests_model_at").on("requests").columns(["model", "at"]).execute();
    await db.schema.createIndex("requests_key_at").on("requests").columns(["api_key_id", "at"]).execute();
    await db.schema.createIndex("requests_chat").on("requests").column("chat_session_id").execute();
    await db.schema
      .createTable("chat_sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("title", "text", (c) => c.notNull())
      .addColumn("model", "text")
      .addColumn("forked_from_session_id", "text")
      .addColumn("forked_from_message_id", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("chat_messages")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("session_id", "text", (c) => c.notNull().references("chat_sessions.id").onDelete("cascade"))
      .addColumn("seq", "integer", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("content", "text", (c) => c.notNull())
      .addColumn("reasoning_content", "text")
      .addColumn("tool_calls", "text")
      .addColumn("tool_call_id", "text")
      .addColumn("request_id", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addUniqueConstraint("chat_messages_session_seq", ["session_id", "seq"])
      .execute();
    await db.schema
      .createTable("mcp_servers")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("transport", "text", (c) => c.notNull().check(sql`transport in ('stdio', 'http')`))
      .addColumn("command", "text")
      .addColumn("url", "text")
      .addColumn("env", "text", (c) => c.notNull().defaultTo("{}"))
      .addColumn("approval", "text", (c) => c.notNull())
      .addColumn("timeout_ms", "integer", (c) => c.notNull())
      .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("benchmarks")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("target", "text", (c) => c.notNull())
      .addColumn("settings", "text", (c) => c.notNull())
      .addColumn("results", "text")
      .addColumn("planned", "text")
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("error", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("finished_at", "text")
      .execute();
    await db.schema
      .createTable("gpu_energy")
      .addColumn("minute", "text", (c) => c.primaryKey())
      .addColumn("joules", "real", (c) => c.notNull())
      .execute();
  },
};

/** Images attached to chat messages, deleted with their message. */
const migration0003: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("chat_attachments")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("session_id", "text", (c) => c.notNull().references("chat_sessions.id").onDelete("cascade"))
      .addColumn("message_id", "text", (c) => c.notNull().references("chat_messages.id").onDelete("cascade"))
      .addColumn("idx", "integer", (c) => c.notNull())
      .addColumn("media_type", "text", (c) => c.notNull())
      .addColumn("bytes", "integer", (c) => c.notNull())
      .addColumn("data", "blob", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    // the chat's images in order (listing, fork, export); message_id alone for the cascade of a delete
    await db.schema
      .createIndex("chat_attachments_session")
      .on("chat_attachments")
      .columns(["session_id", "message_id", "idx"])
      .execute();
    await db.schema
      .createIndex("chat_attachments_message")
      .on("chat_attachments")
      .column("message_id")
      .execute();
  },
};

/**
 * Each live engine's counters as of the last write of the lifetime totals (written in the same
 * transaction), so that a studio started later counts that engine process from exactly there.
 */
const migration0004: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("engine_baselines")
      .addColumn("instance", "text", (c) => c.primaryKey())
      .addColumn("ready_at", "text", (c) => c.notNull())
      .addColumn("scraped_at", "text", (c) => c.notNull())
      .addColumn("samples", "text", (c) => c.notNull())
      .execute();
  },
};

/** Migrations by name; names sort in the order they apply. */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": migration0001,
  "0002_gateway": migration0002,
  "0003_chat_attachments": migration0003,
  "0004_engine_baselines": migration0004,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
