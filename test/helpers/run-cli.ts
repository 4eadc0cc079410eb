import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate the parsed envelope freely
  json: () => any;
}

/** A fresh HOME per call: no ~/.servepilot or HF cache of the developer's leaks into tests. */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), "servepilot-home-"));
  return {
    PATH: process.env.PATH,
    HOME: home,
    HF_HUB_OFFLINE: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

/** Runs the built CLI as a real process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = isolatedEnv()): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8", timeout: 20_000 });
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    json: () => JSON.parse(result.stdout),
  };
}

/** Runs the built CLI without blocking this process (needed when the test also serves HTTP to it). */
export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = isolatedEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}
