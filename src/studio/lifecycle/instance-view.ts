/**
 * How the API shows an instance: its record (status, GPUs, port, endpoint, the plan's figures, the
 * engine's, and the two side by side), whether its process runs and answers /health right now, and what
 * the studio knows beyond the record (a launch in progress, auto-restart, whether it should run).
 * Reading a view never changes a record: marking dead engines is the watchdog's job.
 */
import type { InstanceRecord } from "../../runtime/supervisor/instance.js";
import { isActiveStatus } from "../../runtime/supervisor/instance.js";
import { checkLiveness } from "../../runtime/supervisor/liveness.js";
import { probeReadiness } from "../../runtime/supervisor/readiness.js";

export interface LaunchProgressView {
  phase: string;
  percent: number | null;
  startedAt: string;
  reason: string;
}

export interface InstanceExtras {
  launching: LaunchProgressView | null;
  autoRestart: boolean;
  desiredState: "running" | "stopped" | null;
  adopted: boolean;
}

export async function instanceView(record: InstanceRecord, env: NodeJS.ProcessEnv, extras: InstanceExtras) {
  let alive = false;
  let healthy: boolean | null = null;
  let reason: string | null = null;
  if (isActiveStatus(record.status)) {
    const liveness = await checkLiveness(record, env);
    alive = liveness.alive;
    reason = liveness.reason;
    if (alive)
      healthy = (await probeReadiness(record.endpoint, record.servedModelName, { timeoutMs: 1_000 })).ready;
  }
  return {
    name: record.name,
    status: record.status,
    phase: record.phase,
    alive,
    healthy,
    notAliveReason: reason,
    model: record.model,
    servedModelName: record.servedModelName,
    engine: record.engine,
    engineVersion: record.actual.engineVersion ?? record.engineVersion,
    recipeId: record.recipeId,
    precision: record.precision,
    mode: record.mode,
    pid: record.pid,
    gpus: record.gpus,
    host: record.host,
    port: record.port,
    endpoint: record.endpoint,
    createdAt: record.createdAt,
    readyAt: record.readyAt,
    stoppedAt: record.stoppedAt,
    failure: record.failure,
    planned: record.planned,
    actual: record.actual,
    planVsActual: record.planVsActual,
    ...extras,
  };
}

export type InstanceView = Awaited<ReturnType<typeof instanceView>>;

/** The short form carried by `instance` events. */
export function instanceSummary(record: InstanceRecord) {
  return {
    model: record.model,
    engine: record.engine,
    gpus: record.gpus.map((g) => g.index),
    port: record.port,
    endpoint: record.endpoint,
    pid: record.pid,
  };
}
