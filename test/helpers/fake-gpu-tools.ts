import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedEnv } from "./run-cli.js";

const FIXTURES = new URL("../fixtures/hardware/", import.meta.url).pathname;

/**
 * A PATH holding only the fake GPU tools named as the real ones, replaying a captured scenario from
 * test/fixtures/hardware/scenarios (null: no GPU tool at all).
 */
export function fakeToolsEnv(scenario: string | null, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const bin = mkdtempSync(join(tmpdir(), "sp-bin-"));
  if (scenario) {
    for (const tool of ["nvidia-smi", "amd-smi", "rocm-smi"]) {
      symlinkSync(join(FIXTURES, "bin", `fake-${tool}`), join(bin, tool));
    }
  }
  const nodeDir = process.execPath.replace(/\/node$/, "");
  return isolatedEnv({
    PATH: `${bin}:${nodeDir}`,
    ...(scenario ? { FAKE_SMI_SCENARIO: join(FIXTURES, "scenarios", scenario) } : {}),
    ...extra,
  });
}
