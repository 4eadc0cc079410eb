/**
 * Finishes the readiness wait of an engine the studio adopted while it was still starting (the studio
 * that launched it stopped before it was ready): polls /health and /v1/models until it serves, dies or
 * runs out of time; when ready, reads its figures from the log, compares them with the plan and writes
 * the record ready, as the launcher would have.
 */
import { ENGINE_ADAPTERS } from "../../runtime/engines/adapters.js";
import { createStartupTracker } from "../../runtime/engines/startup-tracker.js";
import type { InstanceRecord } from "../../runtime/supervisor/instance.js";
import { comparePlanToActual } from "../../runtime/supervisor/launch.js";
import { checkLiveness } from "../../runtime/supervisor/liveness.js";
import { tailLines } from "../../runtime/supervisor/log-file.js";
import { readProcessIdentity } from "../../runtime/supervisor/process-identity.js";
import { probeReadiness } from "../../runtime/supervisor/readiness.js";
import { updateInstance } from "../../runtime/supervisor/state-store.js";

export type AdoptedOutcome =
  | { kind: "ready"; record: InstanceRecord }
  | { kind: "died" }
  | { kind: "timeout" }
  | { kind: "abandoned" };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function awaitAdoptedReadiness(
  record: InstanceRecord,
  options: {
    dataDir: string;
    env: NodeJS.ProcessEnv;
    pollMs: number;
    /** When to give up (ms since the epoch). */
    deadline: number;
    /** Set when the studio stops watching (shutdown, or the instance is stopped). */
    abandoned: () => boolean;
  },
): Promise<AdoptedOutcome> {
  for (;;) {
    if (options.abandoned()) return { kind: "abandoned" };
    if (!(await checkLiveness(record, options.env)).alive) return { kind: "died" };
    const probe = await probeReadiness(record.endpoint, record.servedModelName, { timeoutMs: 2_000 });
    if (probe.ready) break;
    if (Date.now() > options.deadline) return { kind: "timeout" };
    await sleep(options.pollMs);
  }
  const tracker = createStartupTracker(ENGINE_ADAPTERS[record.engine].logEngine);
  for (const line of await tailLines(record.logFile, 5_000)) tracker.pushLine(line);
  const actual = tracker.state.actual;
  const identity = record.pid === null ? null : await readProcessIdentity(record.pid);
  const ready =
    (await updateInstance(options.dataDir, record.name, (r) => ({
      ...r,
      status: "ready",
      phase: "ready",
      readyAt: new Date().toISOString(),
      processCommandLine:
        r.processCommandLine.length > 0 ? r.processCommandLine : (identity?.commandLine ?? []),
      actual,
      planVsActual: comparePlanToActual(r.planned, actual),
    }))) ?? record;
  return { kind: "ready", record: ready };
}
