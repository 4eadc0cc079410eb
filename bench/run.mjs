// Runs every benchmark in bench/ (build first: npm run build).
await import("./cold-start.mjs");
await import("./fit-catalog.mjs");
// the launcher bench writes its test model with a TypeScript helper: run it through tsx
const { spawnSync } = await import("node:child_process");
const launchBench = new URL("./launch.ts", import.meta.url).pathname;
const studioBenches = ["./studio.ts", "./gateway.ts", "./web.ts"].map(
  (b) => new URL(b, import.meta.url).pathname,
);
for (const bench of [launchBench, ...studioBenches]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", bench], { stdio: "inherit" });
  if (result.status !== 0) process.exitCode = result.status ?? 1;
}
