import { execFileSync } from "node:child_process";

/**
 * CLI tests run the real bin (dist/cli/main.js): build it once before the suite.
 * SERVEPILOT_TEST_SKIP_BUILD=1 skips it when dist/ is known to be current (while iterating).
 */
export default function setup(): void {
  if (process.env.SERVEPILOT_TEST_SKIP_BUILD === "1") return;
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
}
