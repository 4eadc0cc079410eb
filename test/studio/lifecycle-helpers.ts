/**
 * Shared by the instance-lifecycle tests: studios that are closed and whose engines are stopped after
 * each test (whatever the test left), waits for conditions, and process checks through /proc.
 */

import { type ChildProcess, spawn } from "node:child_process";
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

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
/** Studio processes started by studioProcess (killed by cleanUp). */
const children: ChildProcess[] = [];

/**
 * `servepilot studio` as a real process (built CLI) on `port`, for tests that kill it; resolves once
 * /api/health answers. Its data dir is tracked so that cleanUp stops its engines.
 */
export async function studioProcess(dataDir: string, port: number, env: NodeJS.ProcessEnv) {
  dataDirs.add(dataDir);
  const child = spawn(process.execPath, [BIN, "studio", "--data-dir", dataDir, "--port", String(port)], {
    env: { ...env, SERVEPILOT_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    `studio on ${port} (stderr: ${stderr})`,
    async () => (await fetch(`${url}/api/health`)).ok,
    30_000,
    100,
  );
  const api = async (path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, never> };
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  };
  return { child, url, api, kill };
}

/** Closes every studio and stops every engine recorded in their data directories. */
export async function cleanUp(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
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
