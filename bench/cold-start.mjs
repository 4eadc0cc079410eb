// Cold start of the CLI: each run is a fresh `node` process, as a user would start it.
// Prints the median (and spread) of several runs; no assertion — figures go in the closing note.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../dist/cli/main.js", import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const CASES = [
  ["--version"],
  ["inspect", "Qwen/Qwen3-8B", "--json", "--offline"],
  ["inspect", "deepseek-ai/DeepSeek-V3", "--json", "--offline"],
  ["plan", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--json", "--offline"],
  ["fit", "meta-llama/Llama-3.3-70B-Instruct", "--json", "--offline"],
  ["models", "--json"],
  ["gpus", "--json"],
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const env = { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), "sp-bench-")), HF_HUB_OFFLINE: "1" };
console.log(`cold start, ${RUNS} runs each (node ${process.version})`);
for (const args of CASES) {
  spawnSync(process.execPath, [BIN, ...args], { env }); // warm the OS file cache once
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (result.status !== 0)
      throw new Error(`servepilot ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  const label = `servepilot ${args.join(" ")}`.padEnd(60);
  console.log(
    `${label} median ${median(times).toFixed(0)} ms  (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`,
  );
}
