/**
 * `servepilot studio` as a user runs it (`npm start` runs exactly this): a real process that listens,
 * answers, and exits 0 on SIGTERM; bad flags exit 2 before anything starts.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "../helpers/run-cli.js";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("servepilot studio", () => {
  it("is what npm start runs", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe("node dist/cli/main.js studio");
  });

  it("listens on loopback, answers /api/health, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-cli-studio-"));
    const child = spawn(
      process.execPath,
      [join(ROOT, "dist/cli/main.js"), "studio", "--port", "0", "--data-dir", dataDir],
      {
        env: isolatedEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while (url === undefined) {
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (Date.now() > deadline) throw new Error(`no listening line: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    expect(existsSync(join(dataDir, "studio.db"))).toBe(true);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("engines keep running");
  });

  it.each([
    [["--host", "0.0.0.0"], /requires an API key/],
    [["--api-key", "short"], /at least 16 characters/],
    [["--port", "99999"], /--port must be an integer from 0 to 65535/],
    [["--log-level", "loud"], /--log-level must be one of/],
    [["--rate-limit", "-1"], /--rate-limit/],
  ])("refuses %j with exit 2", (args, message) => {
    const result = runCli(["studio", "--data-dir", mkdtempSync(join(tmpdir(), "sp-cli-studio-")), ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
