/** Benchmark rows in SQLite (`benchmarks`): settings, results and the planned estimate as JSON text. */
import type { Kysely } from "kysely";
import type { BenchSettings } from "../../core/bench/settings.js";
import { ServepilotError } from "../../core/errors.js";
import type { BenchmarksTable, StudioDatabase } from "../db/schema.js";

export type BenchmarkStatus = BenchmarksTable["status"];

export interface BenchmarkView {
  id: string;
  model: string;
  target: string;
  settings: BenchSettings;
  results: unknown;
  planned: unknown;
  status: BenchmarkStatus;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function viewOf(row: BenchmarksTable): BenchmarkView {
  return {
    id: row.id,
    model: row.model,
    target: row.target,
    settings: parse(row.settings) as BenchSettings,
    results: parse(row.results),
    planned: parse(row.planned),
    status: row.status,
    error: row.error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export function notFound(id: string): ServepilotError {
  return new ServepilotError("NOT_FOUND", `no benchmark with id "${id}"`, {
    hint: "GET /api/benchmarks lists them",
  });
}

export class BenchmarkStore {
  constructor(private readonly db: Kysely<StudioDatabase>) {}

  async insert(row: BenchmarksTable): Promise<void> {
    await this.db.insertInto("benchmarks").values(row).execute();
  }

  async update(
    id: string,
    change: Partial<Pick<BenchmarksTable, "results" | "planned" | "status" | "error" | "finished_at">>,
  ): Promise<void> {
    await this.db.updateTable("benchmarks").set(change).where("id", "=", id).execute();
  }

  async get(id: string): Promise<BenchmarkView> {
    const row = await this.db.selectFrom("benchmarks").selectAll().where("id", "=", id).executeTakeFirst();
    if (row === undefined) throw notFound(id);
    return viewOf(row);
  }

  async list(filter: { model?: string | undefined; limit: number }): Promise<BenchmarkView[]> {
    let query = this.db.selectFrom("benchmarks").selectAll();
    if (filter.model !== undefined) query = query.where("model", "=", filter.model);
    const rows = await query
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(filter.limit)
      .execute();
    return rows.map(viewOf);
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("benchmarks").where("id", "=", id).execute();
  }

  /** Rows left `running` by a studio that stopped without marking them (a crash). */
  async markInterrupted(at: string): Promise<number> {
    const result = await this.db
      .updateTable("benchmarks")
      .set({ status: "cancelled", error: "the studio stopped while it ran", finished_at: at })
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
