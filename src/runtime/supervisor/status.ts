import { ENGINE_ADAPTERS } from "../engines/adapters.js";
import { primaryFailure } from "../engines/startup-state.js";
import { createStartupTracker } from "../engines/startup-tracker.js";
import { diagnoseLaunchFailure } from "./diagnose.js";
import { type InstanceRecord, isActiveStatus } from "./instance.js";
import { checkLiveness } from "./liveness.js";
import { rotateLog, tailLines } from "./log-file.js";
import { probeReadiness } from "./readiness.js";
import { listInstances, requireInstance, updateInstance } from "./state-store.js";

export interface InstanceStatusReport {
  record: InstanceRecord;
  /** The engine process (or container) runs. */
  alive: boolean;
  /** It answered /health and listed its model just now (null when not probed: not alive). */
  healthy: boolean | null;
  /** Why it is not alive, when it is not. */
  reason: string | null;
}

/** Reads the failure cause of an engine that exited from the end of its log. */
async function failureFromLog(record: InstanceRecord): Promise<InstanceRecord["failure"]> {
  const tracker = createStartupTracker(ENGINE_ADAPTERS[record.engine].logEngine);
  for (const line of await tailLines(record.logFile, 400)) tracker.pushLine(line);
  return diagnoseLaunchFailure({
    failure: primaryFailure(tracker.state),
    exit: null,
    timedOutAfterSeconds: null,
    phase: record.phase,
    engine: record.engine,
    model: record.model,
    name: record.name,
    port: record.port,
    plan: null,
    replan: null,
    freePort: null,
    hfTokenSet: false,
  });
}

export async function refreshInstance(
  dataDir: string,
  record: InstanceRecord,
  options: { env?: NodeJS.ProcessEnv; probe?: boolean } = {},
): Promise<InstanceStatusReport> {
  const env = options.env ?? process.env;
  await rotateLog(record.logFile).catch(() => false);
  if (!isActiveStatus(record.status)) return { record, alive: false, healthy: null, reason: null };
  const liveness = await checkLiveness(record, env);
  if (!liveness.alive) {
    // it was meant to run: it died (or was killed) without servepilot stopping it
    const failure = record.status === "stopping" ? null : await failureFromLog(record);
    const updated =
      (await updateInstance(dataDir, record.name, (r) => ({
        ...r,
        status: r.status === "stopping" ? "stopped" : "failed",
        stoppedAt: r.stoppedAt ?? new Date().toISOString(),
        failure: r.failure ?? failure,
      }))) ?? record;
    return { record: updated, alive: false, healthy: null, reason: liveness.reason };
  }
  if (options.probe === false) return { record, alive: true, healthy: null, reason: null };
  const probe = await probeReadiness(record.endpoint, record.servedModelName, { timeoutMs: 2_000 });
  return { record, alive: true, healthy: probe.ready, reason: null };
}

/** Every instance, refreshed (dead ones marked). */
export async function instanceStatuses(
  dataDir: string,
  options: { env?: NodeJS.ProcessEnv; probe?: boolean } = {},
): Promise<InstanceStatusReport[]> {
  const records = await listInstances(dataDir);
  return Promise.all(records.map((record) => refreshInstance(dataDir, record, options)));
}

/** One instance, refreshed; an unknown name is an error listing the known ones. */
export async function instanceStatus(
  dataDir: string,
  name: string,
  options: { env?: NodeJS.ProcessEnv; probe?: boolean } = {},
): Promise<InstanceStatusReport> {
  const record = await requireInstance(dataDir, name);
  return refreshInstance(dataDir, record, options);
}
