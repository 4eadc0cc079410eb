import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ShellRun {
  status: number | null;
  stderr: string;
  /** Each call of a recorded program: its name, then its argv as the shell passed it. */
  calls: string[][];
}

const END_OF_CALL = "\u001e";

/**
 * Runs shell text with POSIX `sh`, the programs it calls (docker, vllm, ray, python3, ...) replaced
 * by recorders that write their argv to a file. What a recorder received is what the real program
 * would have received, so quoting is checked by a real shell, not by a second implementation of it.
 */
export function runShell(
  text: string,
  options: { args?: string[]; env?: Record<string, string>; programs?: string[] } = {},
): ShellRun {
  const dir = mkdtempSync(join(tmpdir(), "servepilot-shell-"));
  try {
    const record = join(dir, "calls");
    writeFileSync(record, "");
    for (const program of options.programs ?? ["docker", "vllm", "ray", "python3", "llama-server"]) {
      const path = join(dir, program);
      writeFileSync(path, `#!/bin/sh\nprintf '%s\\0' '${program}' "$@" '${END_OF_CALL}' >> "$RECORD_FILE"\n`);
      chmodSync(path, 0o755);
    }
    const result = spawnSync("sh", ["-c", text, "sh", ...(options.args ?? [])], {
      encoding: "utf8",
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        HOME: "/home/tester",
        USER: "tester",
        RECORD_FILE: record,
        ...options.env,
      },
    });
    const words = readFileSync(record, "utf8").split("\0").slice(0, -1);
    const calls: string[][] = [];
    let current: string[] = [];
    for (const word of words) {
      if (word === END_OF_CALL) {
        calls.push(current);
        current = [];
      } else {
        current.push(word);
      }
    }
    return { status: result.status, stderr: result.stderr, calls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
