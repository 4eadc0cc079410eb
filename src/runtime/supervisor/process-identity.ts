/**
 * Who a pid is, so that a recorded pid is never mistaken for an unrelated process that reused it:
 * Linux's /proc/<pid>/stat start time (field 22, clock ticks since boot) and /proc/<pid>/cmdline.
 * Where /proc is absent, liveness falls back to signal 0 and the identity check is skipped.
 */
import { readdir, readFile } from "node:fs/promises";

export interface ProcessIdentity {
  pid: number;
  /** Process group id (field 5 of /proc/<pid>/stat), null without /proc. */
  pgid: number | null;
  /** Start time in clock ticks since boot, as a decimal string; null without /proc. */
  startTicks: string | null;
  /** The command line (argv), empty when it cannot be read (a zombie, or no /proc). */
  commandLine: string[];
}

const PROC = "/proc";

/** Fields after the command name of /proc/<pid>/stat (the name is in parentheses and may hold spaces). */
function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  // fields[0] is field 3 (state): field N is fields[N - 3]
  return text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
}

/** The identity of a live process, or null when no such process exists (or it is a zombie). */
export async function readProcessIdentity(pid: number): Promise<ProcessIdentity | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let stat: string;
  try {
    stat = await readFile(`${PROC}/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && (await hasProc())) return null;
    return signalZeroIdentity(pid);
  }
  const fields = statFields(stat);
  if (fields === null || fields[0] === "Z" || fields[0] === "X") return null;
  const cmdline = await readFile(`${PROC}/${pid}/cmdline`, "utf8").catch(() => "");
  return {
    pid,
    pgid: Number(fields[2]),
    startTicks: fields[19] ?? null,
    commandLine: cmdline.split("\0").filter((part, i, all) => part !== "" || i < all.length - 1),
  };
}

let procPresent: boolean | undefined;
/** Whether this system has Linux's /proc (process identity and group membership come from it). */
export async function hasProc(): Promise<boolean> {
  if (procPresent === undefined)
    procPresent = await readFile(`${PROC}/self/stat`, "utf8").then(
      () => true,
      () => false,
    );
  return procPresent;
}

/** Whether a process with this pid exists (signal 0; EPERM means it exists but is not ours). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalZeroIdentity(pid: number): ProcessIdentity | null {
  return isPidAlive(pid) ? { pid, pgid: null, startTicks: null, commandLine: [] } : null;
}

/**
 * Whether `current` is the process that was recorded: the same start time (a reused pid starts
 * later), and the same command line when one was recorded (read after the engine was running, so
 * a `#!/usr/bin/env` exec does not count as a change).
 */
export function isSameProcess(
  recorded: { startTicks: string | null; commandLine: readonly string[] },
  current: ProcessIdentity,
): boolean {
  if (
    recorded.startTicks !== null &&
    current.startTicks !== null &&
    recorded.startTicks !== current.startTicks
  )
    return false;
  if (recorded.commandLine.length === 0 || current.commandLine.length === 0) return true;
  return recorded.commandLine.join("\0") === current.commandLine.join("\0");
}

/** Live (non-zombie) pids whose process group is `pgid` (Linux /proc); [] where /proc is absent. */
export async function processGroupMembers(pgid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir(PROC);
  } catch {
    return [];
  }
  const members: number[] = [];
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        const stat = await readFile(`${PROC}/${name}/stat`, "utf8").catch(() => null);
        const fields = stat === null ? null : statFields(stat);
        if (fields && fields[2] === String(pgid) && fields[0] !== "Z" && fields[0] !== "X")
          members.push(Number(name));
      }),
  );
  return members.sort((a, b) => a - b);
}
