/**
 * The lifecycle's SQLite rows: what the studio launched and whether the operator wants it running
 * (`launches`, read by the watchdog and --restore), the failures the watchdog counts
 * (`instance_failures`), and the plan's figures against the engine's (`plan_vs_actual`, kept after the
 * instance is gone).
 */
import type { Kysely } from "kysely";
import type { PlanComparison } from "../../runtime/supervisor/instance.js";
import type { StudioDatabase } from "../db/schema.js";
import { type LaunchBody, LaunchBodySchema } from "./launch-request.js";

export interface LaunchRow {
  name: string;
  request: LaunchBody;
  desiredState: "running" | "stopped";
  autoRestart: boolean;
}

export class LifecycleStore {
  constructor(
    private readonly db: Kysely<StudioDatabase>,
    private readonly now: () => number,
  ) {}

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Records a launch (its request, wanted running); replaces an earlier launch under the same name. */
  async recordLaunch(name: string, request: LaunchBody, autoRestart: boolean): Promise<void> {
    const at = this.iso();
    await this.db
      .insertInto("launches")
      .values({
        name,
        request: JSON.stringify(request),
        desired_state: "running",
        auto_restart: autoRestart ? 1 : 0,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc.column("name").doUpdateSet({
          request: JSON.stringify(request),
          desired_state: "running",
          auto_restart: autoRestart ? 1 : 0,
          updated_at: at,
        }),
      )
      .execute();
  }

  async setDesiredState(name: string, state: "running" | "stopped"): Promise<void> {
    await this.db
      .updateTable("launches")
      .set({ desired_state: state, updated_at: this.iso() })
      .where("name", "=", name)
      .execute();
  }

  /** The launch row of `name`; null when the studio did not launch it or the request no longer parses. */
  async launchOf(name: string): Promise<LaunchRow | null> {
    const row = await this.db.selectFrom("launches").selectAll().where("name", "=", name).executeTakeFirst();
    return row === undefined ? null : parseRow(row);
  }

  async launchesWanted(): Promise<LaunchRow[]> {
    const rows = await this.db
      .selectFrom("launches")
      .selectAll()
      .where("desired_state", "=", "running")
      .execute();
    return rows.map(parseRow).filter((row): row is LaunchRow => row !== null);
  }

  async forget(name: string): Promise<void> {
    await this.db.deleteFrom("launches").where("name", "=", name).execute();
    await this.db.deleteFrom("instance_failures").where("name", "=", name).execute();
  }

  async recordFailure(name: string, cause: string, message: string): Promise<void> {
    await this.db.insertInto("instance_failures").values({ name, at: this.iso(), cause, message }).execute();
  }

  /** Failure times of `name` (ms since the epoch), oldest first. */
  async failureTimes(name: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom("instance_failures")
      .select("at")
      .where("name", "=", name)
      .orderBy("at")
      .execute();
    return rows.map((row) => Date.parse(row.at));
  }

  async recordPlanVsActual(
    name: string,
    model: string,
    engine: string,
    rows: readonly PlanComparison[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const at = this.iso();
    await this.db
      .insertInto("plan_vs_actual")
      .values(
        rows.map((row) => ({
          name,
          model,
          engine,
          metric: row.metric,
          planned: row.planned,
          actual: row.actual,
          error_percent: row.errorPercent,
          recorded_at: at,
        })),
      )
      .execute();
  }

  async planVsActual(name: string) {
    const rows = await this.db
      .selectFrom("plan_vs_actual")
      .selectAll()
      .where("name", "=", name)
      .orderBy("recorded_at", "desc")
      .orderBy("id")
      .execute();
    return rows.map((row) => ({
      model: row.model,
      engine: row.engine,
      metric: row.metric,
      planned: row.planned,
      actual: row.actual,
      errorPercent: row.error_percent,
      recordedAt: row.recorded_at,
    }));
  }
}

function parseRow(row: {
  name: string;
  request: string;
  desired_state: "running" | "stopped";
  auto_restart: number;
}): LaunchRow | null {
  let json: unknown;
  try {
    json = JSON.parse(row.request);
  } catch {
    return null;
  }
  const parsed = LaunchBodySchema.safeParse(json);
  if (!parsed.success) return null;
  return {
    name: row.name,
    request: parsed.data,
    desiredState: row.desired_state,
    autoRestart: row.auto_restart === 1,
  };
}
