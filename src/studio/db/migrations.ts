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

/** Migrations by name; names sort in the order they apply. */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": migration0001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
