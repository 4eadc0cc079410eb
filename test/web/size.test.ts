/** The web UI's initial JavaScript stays within its budget (scripts/web-size.mjs, 350 KB gzip). */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

const SCRIPT = new URL("../../scripts/web-size.mjs", import.meta.url).pathname;
const WEB_INDEX = new URL("../../dist/web/index.html", import.meta.url).pathname;

describe.skipIf(!existsSync(WEB_INDEX))("web UI size", () => {
  it("loads at most 350 KB of gzipped JavaScript before the first page, the pages lazily", () => {
    const output = execFileSync(process.execPath, [SCRIPT], { encoding: "utf8" });
    const kb = Number(/initial JS: .*, gzip ([\d.]+) KB/.exec(output)?.[1]);
    expect(kb).toBeGreaterThan(0);
    expect(kb).toBeLessThanOrEqual(350);
    expect(output).toMatch(/lazy chunks[\s\S]*Dashboard[\s\S]*Planner/);
  });
});
