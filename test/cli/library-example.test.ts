import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isolatedEnv } from "../helpers/run-cli.js";

describe("library example", () => {
  it('runs examples/plan-library.mjs against the built package (import from "servepilot")', () => {
    const example = new URL("../../examples/plan-library.mjs", import.meta.url).pathname;
    const result = spawnSync(process.execPath, [example], { env: isolatedEnv(), encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^fits: true\nModel loading took 14\.96 GiB\nAvailable KV cache memory: \d+\.\d+ GiB/,
    );
    expect(result.stdout).toContain("Qwen3-0.6B-like: 596049920 params, 114688 KV bytes/token");
  });
});
