/**
 * Stops an instance: SIGTERM to its whole process group (engines fork workers: vLLM's EngineCore,
 * SGLang's schedulers), a grace period, then SIGKILL to what is left; docker mode runs `docker stop`.
 * Returns once no process of the group remains.
 */
import { ServepilotError } from "../../core/errors.js";
import type { InstanceRecord } from "./instance.js";
import { checkProcess } from "./liveness.js";
import { hasProc, isPidAlive, processGroupMembers } from "./process-identity.js";
import { requireInstance, updateInstance } from "./state-store.js";

export const DEFAULT_STOP_GRACE_SECONDS = 30;

export interface StopResult {
  name: string;
  /** Whether anything of it was still running. */
  wasRunning: boolean;
  /** The last signal that was needed: SIGTERM, SIGKILL, or null when nothing ran. */
  signal: "SIGTERM" | "SIGKILL" | null;
  /** Processes of its group still alive afterwards (empty unless the kernel refused). */
  remaining: number[];
  record: InstanceRecord;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Waits until the group has no live member; returns the members left after `ms`. */
async function waitForGroupExit(pgid: number, pid: number, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const members = await processGroupMembers(pgid);
    // with /proc, a zombie leader (not yet reaped by its parent) is not a member: it has exited
    if (members.length === 0 && ((await hasProc()) || !isPidAlive(pid))) return [];
    if (Date.now() >= deadline) return members.length > 0 ? members : [pid];
    await sleep(50);
  }
}

/** Terminates a process group: SIGTERM, `graceMs`, then SIGKILL. */
export async function terminateGroup(
  pgid: number,
  pid: number,
  graceMs: number,
): Promise<{ signal: "SIGTERM" | "SIGKILL"; remaining: number[] }> {
  signalGroup(pgid, "SIGTERM");
  let remaining = await waitForGroupExit(pgid, pid, graceMs);
  if (remaining.length === 0) return { signal: "SIGTERM", remaining };
  signalGroup(pgid, "SIGKILL");
  remaining = await waitForGroupExit(pgid, pid, 5_000);
  return { signal: "SIGKILL", remaining };
}

async function stopProcess(
  record: InstanceRecord,
  graceMs: number,
): Promise<Pick<StopResult, "wasRunning" | "signal" | "remaining">> {
  const pgid = record.pgid ?? record.pid;
  if (record.pid === null || pgid === null) return { wasRunning: false, signal: null, remaining: [] };
  const { alive } = await checkProcess(record);
  // the leader may be gone while workers of its group linger: they are the engine's, so they go too
  const lingering = alive ? [] : await processGroupMembers(pgid);
  if (!alive && lingering.length === 0) return { wasRunning: false, signal: null, remaining: [] };
  const { signal, remaining } = await terminateGroup(pgid, record.pid, graceMs);
  return { wasRunning: true, signal, remaining };
}

async function stopContainer(
  record: InstanceRecord,
  graceMs: number,
  env: NodeJS.ProcessEnv,
): Promise<Pick<StopResult, "wasRunning" | "signal" | "remaining">> {
  const { execa } = await import("execa");
  if (record.logFollowerPid !== null && isPidAlive(record.logFollowerPid))
    signalGroup(record.logFollowerPid, "SIGTERM");
  if (record.containerId === null) return { wasRunning: false, signal: null, remaining: [] };
  const seconds = String(Math.max(1, Math.round(graceMs / 1000)));
  const result = await execa("docker", ["stop", "--time", seconds, record.containerId], {
    env,
    reject: false,
    timeout: graceMs + 30_000,
  });
  if (result.exitCode !== 0 && !/No such container/i.test(result.stderr)) {
    throw new ServepilotError(
      "LAUNCH_FAILED",
      `docker stop ${record.containerId.slice(0, 12)} failed: ${result.stderr.trim()}`,
    );
  }
  return { wasRunning: result.exitCode === 0, signal: "SIGTERM", remaining: [] };
}

export async function stopInstance(
  dataDir: string,
  name: string,
  options: { graceSeconds?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<StopResult> {
  const record = await requireInstance(dataDir, name);
  const graceMs = (options.graceSeconds ?? DEFAULT_STOP_GRACE_SECONDS) * 1000;
  const wasActive = record.status !== "stopped" && record.status !== "failed";
  if (wasActive) await updateInstance(dataDir, name, (r) => ({ ...r, status: "stopping" }));
  const outcome =
    record.mode === "docker"
      ? await stopContainer(record, graceMs, options.env ?? process.env)
      : await stopProcess(record, graceMs);
  const stoppedAt = new Date().toISOString();
  const updated =
    (await updateInstance(dataDir, name, (r) => ({
      ...r,
      status: r.status === "failed" ? "failed" : "stopped",
      stoppedAt: r.stoppedAt ?? stoppedAt,
    }))) ?? record;
  return { name, ...outcome, record: updated };
}
