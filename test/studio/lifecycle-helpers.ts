/**
 * Shared by the instance-lifecycle tests: studios that are closed and whose engines are stopped after
 * each test (whatever the test left), waits for conditions, and process checks through /proc.
 */

import { processGroupMembers } from "../../src/runtime/supervisor/process-identity.js";
import { listInstances } from "../../src/runtime/supervisor/state-store.js";
import { stopInstance } from "../../src/runtime/supervisor/stop.js";
import { connectSse, type SseConnection } from "./sse-client.js";
import { startTestStudio, studioEnv, type TestStudio } from "./studio-harness.js";

export const QWEN = "Qwen/Qwen3-8B";

interface Opened {
  studio: TestStudio;
  streams: SseConnection[];
}

const opened: Opened[] = [];
/** Data directories whose engines must be stopped after the test (also those of studio processes). */
const dataDirs = new Set<string>();

/**
 * A range of engine ports of its own per studio (SERVEPILOT_PORT), so that studios of test files
 * running in parallel do not race for port 8000.
 */
export function enginePortBase(): string {
  return String(20_000 + Math.floor(Math.random() * 400) * 100);
}

export async function openStudio(options: Parameters<typeof startTestStudio>[0] = {}) {
  const studio = await startTestStudio({
    ...options,
    env: options.env ?? studioEnv({ SERVEPILOT_PORT: enginePortBase() }),
  });
  const entry: Opened = { studio, streams: [] };
  opened.push(entry);
  dataDirs.add(studio.dataDir);
  const events = async (query = "") => {
    const key = studio.ctx.options.apiKey;
    const stream = await connectSse(
      `${studio.url}/api/events${query}`,
      key ? { authorization: `Bearer ${key}` } : {},
    );
    entry.streams.push(stream);
    return stream;
  };
  return { ...studio, events };
}

export function trackDataDir(dataDir: string): void {
  dataDirs.add(dataDir);
}

/** Closes every studio and stops every engine recorded in their data directories. */
export async function cleanUp(): Promise<void> {
  for (const { studio, streams } of opened.splice(0)) {
    for (const stream of streams) stream.close();
    await studio.close().catch(() => {});
  }
  for (const dataDir of [...dataDirs]) {
    dataDirs.delete(dataDir);
    for (const record of await listInstances(dataDir).catch(() => [])) {
      await stopInstance(dataDir, record.name, { graceSeconds: 1 }).catch(() => {});
      if (record.pgid !== null) {
        try {
          process.kill(-record.pgid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Live processes of a group (the emulator's API server and its EngineCore). */
export function groupMembers(pgid: number): Promise<number[]> {
  return processGroupMembers(pgid);
}

export function isInstanceEvent(name: string, status: string) {
  return (e: { type: string; data: { instance?: string; status?: string } }) =>
    e.type === "instance" && e.data.instance === name && e.data.status === status;
}
