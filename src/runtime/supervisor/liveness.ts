/**
 * Whether a recorded instance still runs: its pid is alive and is the same process (start time and
 * command line), or its container runs (docker inspect).
 */
import { execa } from "execa";
import type { InstanceRecord } from "./instance.js";
import { isSameProcess, type ProcessIdentity, readProcessIdentity } from "./process-identity.js";

export interface Liveness {
  alive: boolean;
  /** Why it is not alive (or why the pid does not count), for status output. */
  reason: string | null;
}

export async function checkProcess(
  record: InstanceRecord,
): Promise<{ alive: boolean; reason: string | null; identity: ProcessIdentity | null }> {
  if (record.pid === null) return { alive: false, reason: "no process was recorded", identity: null };
  const identity = await readProcessIdentity(record.pid);
  if (identity === null) return { alive: false, reason: `process ${record.pid} is gone`, identity: null };
  if (!isSameProcess({ startTicks: record.startTicks, commandLine: record.processCommandLine }, identity)) {
    return {
      alive: false,
      reason: `process ${record.pid} is gone (the pid now belongs to another process)`,
      identity: null,
    };
  }
  return { alive: true, reason: null, identity };
}

export async function checkContainer(record: InstanceRecord, env: NodeJS.ProcessEnv): Promise<Liveness> {
  if (record.containerId === null) return { alive: false, reason: "no container was recorded" };
  const result = await execa("docker", ["inspect", "--format", "{{.State.Running}}", record.containerId], {
    env,
    reject: false,
    timeout: 10_000,
  });
  if (result.exitCode !== 0)
    return { alive: false, reason: `container ${record.containerId.slice(0, 12)} is gone` };
  return result.stdout.trim() === "true"
    ? { alive: true, reason: null }
    : { alive: false, reason: `container ${record.containerId.slice(0, 12)} has stopped` };
}

export async function checkLiveness(record: InstanceRecord, env: NodeJS.ProcessEnv): Promise<Liveness> {
  if (record.mode === "docker") return checkContainer(record, env);
  const { alive, reason } = await checkProcess(record);
  return { alive, reason };
}
