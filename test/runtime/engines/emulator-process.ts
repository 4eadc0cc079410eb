/** Starts test/fixtures/engines/vllm-emulator.mjs as a real process on a free loopback port. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { ENGINE_FIXTURES } from "./captured-lines.js";

export const EMULATOR = `${ENGINE_FIXTURES}vllm-emulator.mjs`;

export interface RunningEmulator {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Everything printed so far on stdout and stderr, in arrival order. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A port the OS just handed out on 127.0.0.1 (then released for the emulator to take). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startEmulator(
  scenario: string,
  options: { port?: number; args?: string[]; env?: Record<string, string> } = {},
): Promise<RunningEmulator> {
  const port = options.port ?? (await findFreePort());
  const args = ["serve", "Qwen/Qwen3-8B", "--port", String(port), ...(options.args ?? [])];
  const child = spawn(process.execPath, [EMULATOR, ...args], {
    env: { ...process.env, EMULATOR_SCENARIO: scenario, EMULATOR_LINE_DELAY_MS: "0", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    // its own process group, so that clean-up reaches its EngineCore child too
    detached: true,
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, port, baseUrl: `http://127.0.0.1:${port}`, output: () => text, exited };
}

/** Calls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The HTTP status of GET url, or "refused" when nothing answers yet. */
export async function statusOf(url: string): Promise<number | "refused"> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return "refused";
  }
}

/** Waits until GET /health answers 200; fails with the emulator's output if it exits first. */
export async function waitForReady(emulator: RunningEmulator, timeoutMs = 10_000): Promise<void> {
  await pollUntil(
    async () => {
      if (emulator.child.exitCode !== null) {
        throw new Error(`emulator exited with ${emulator.child.exitCode}:\n${emulator.output()}`);
      }
      return (await statusOf(`${emulator.baseUrl}/health`)) === 200 ? true : undefined;
    },
    "GET /health to answer 200",
    timeoutMs,
  );
}

/** Resolves with the exit, or rejects if the process has not exited within `timeoutMs`. */
export async function waitForExit(
  emulator: RunningEmulator,
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`emulator did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([emulator.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops the emulator if it still runs (test clean-up). */
export async function stopEmulator(emulator: RunningEmulator | undefined): Promise<void> {
  if (emulator === undefined) return;
  const pid = emulator.child.pid;
  try {
    if (pid !== undefined) process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
  if (emulator.child.exitCode === null && emulator.child.signalCode === null) await emulator.exited;
}
