// What the studio benches share: a `servepilot studio` process (built CLI) on a free port with the
// fake nvidia-smi replaying a captured 8 x H100 machine, started until /api/health answers, and the
// median they report.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentilesOf } from "../src/core/stats/percentile.js";

const BIN = new URL("../dist/cli/main.js", import.meta.url).pathname;
export const FIXTURES = new URL("../test/fixtures/", import.meta.url).pathname;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const median = (values: number[]) => percentilesOf(values, [50])[0] as number;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A fresh home and data dir, the fake nvidia-smi first on PATH, no Hub; `extra` adds or overrides. */
export function benchEnvironment(name: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), `sp-bench-${name}-`));
  const bin = mkdtempSync(join(tmpdir(), "sp-bench-bin-"));
  symlinkSync(join(FIXTURES, "hardware", "bin", "fake-nvidia-smi"), join(bin, "nvidia-smi"));
  return {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: home,
    HF_HUB_OFFLINE: "1",
    SERVEPILOT_HOME: join(home, "sp"),
    FAKE_SMI_SCENARIO: join(FIXTURES, "hardware", "scenarios", "h100-sxm-8x-nvlink.json"),
    ...extra,
  };
}

export interface RunningStudio {
  child: ChildProcess;
  url: string;
  /** From the spawn until /api/health answered 200. */
  readyMs: number;
}

/** Spawns the studio and polls /api/health every 5 ms until it answers 200 (or the process exits). */
export async function startStudio(env: NodeJS.ProcessEnv, args: string[] = []): Promise<RunningStudio> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(
    process.execPath,
    [BIN, "studio", "--port", String(port), "--log-level", "warn", ...args],
    {
      env,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`studio exited ${child.exitCode}`);
    const ok = await fetch(`${url}/api/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, url, readyMs: performance.now() - start };
    await sleep(5);
  }
}

/** SIGINT, as Ctrl-C: the studio shuts down gracefully; resolves once it has exited. */
export async function stopStudio(running: { child: ChildProcess }): Promise<void> {
  if (running.child.exitCode !== null) return;
  const exited = new Promise((resolve) => running.child.once("exit", resolve));
  running.child.kill("SIGINT");
  await exited;
}
