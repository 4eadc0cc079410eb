/**
 * Whether a port is listened on by one of a process group's processes (Linux: the listening socket's
 * inode in /proc/net/tcp{,6} appears among the group members' /proc/<pid>/fd links). Readiness only
 * counts when the engine we started owns the port: another engine on the same port (a second data
 * directory launching at the same moment) must not make ours look ready.
 */
import { readdir, readFile, readlink } from "node:fs/promises";
import { hasProc, processGroupMembers } from "./process-identity.js";

const LISTEN = "0A";

/** Inodes of sockets in LISTEN state on `port` in one /proc/net/tcp-format table. */
export function listeningInodes(table: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const local = fields[1];
    if (!local || fields[3] !== LISTEN) continue;
    if (local.slice(local.lastIndexOf(":") + 1).toUpperCase() === hexPort && fields[9])
      inodes.push(fields[9]);
  }
  return inodes;
}

/**
 * true when a member of process group `pgid` listens on `port`; false when another process does or
 * nobody does; null when it cannot be told (no /proc).
 */
export async function groupListensOn(pgid: number, port: number): Promise<boolean | null> {
  if (!(await hasProc())) return null;
  const tables = await Promise.all(
    ["/proc/net/tcp", "/proc/net/tcp6"].map((file) => readFile(file, "utf8").catch(() => "")),
  );
  const inodes = new Set(tables.flatMap((table) => listeningInodes(table, port)));
  if (inodes.size === 0) return false;
  for (const pid of await processGroupMembers(pgid)) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return true;
    }
  }
  return false;
}
