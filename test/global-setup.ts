import { execFileSync } from "node:child_process";

/** CLI tests run the real bin (dist/cli/main.js): build it once before the suite. */
export default function setup(): void {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
}
