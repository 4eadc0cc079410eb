// Launcher timings (run with `node --import tsx bench/launch.ts` after `npm run build`; `npm run bench`
// does it): each run is a fresh CLI process, as a user would type it.
//  - embedded engine: `launch <tiny.gguf> --engine embedded --detach` until it returns ready, then
//    `stop` until it returns (it returns once no process of the engine's group is left);
//  - vLLM emulator: the same for the vLLM path (launcher overhead: the emulator prints its startup
//    lines without delay).
// Prints medians of several runs; no assertion — figures go in the closing note.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyGguf } from "../test/helpers/tiny-gguf.js";

const BIN = new URL("../dist/cli/main.js", import.meta.url).pathname;
const FIXTURES = new URL("../test/fixtures/", import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function timed(args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0)
    throw new Error(`servepilot ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

function bench(label: string, launchArgs: string[], env: NodeJS.ProcessEnv): void {
  const launches: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const launched = timed([...launchArgs, "--detach", "--json", "--name", `bench-${i}`], env);
    launches.push(launched.ms);
    stops.push(timed(["stop", `bench-${i}`], env).ms);
  }
  const fmt = (values: number[]) =>
    `median ${median(values).toFixed(0)} ms (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})`;
  console.log(`${`${label}: launch --detach to ready`.padEnd(52)} ${fmt(launches)}`);
  console.log(`${`${label}: stop to process gone`.padEnd(52)} ${fmt(stops)}`);
}

const home = mkdtempSync(join(tmpdir(), "sp-bench-launch-"));
const model = await writeTinyGguf(home);
const base = { PATH: process.env.PATH, HOME: home, HF_HUB_OFFLINE: "1", SERVEPILOT_HOME: join(home, "sp") };
console.log(`launcher, ${RUNS} runs each (node ${process.version})`);
bench("embedded (tiny GGUF, CPU)", ["launch", model, "--engine", "embedded"], base);

const bin = mkdtempSync(join(tmpdir(), "sp-bench-bin-"));
const { symlinkSync } = await import("node:fs");
symlinkSync(join(FIXTURES, "hardware", "bin", "fake-nvidia-smi"), join(bin, "nvidia-smi"));
bench("vLLM emulator (8x H100 replayed)", ["launch", "Qwen/Qwen3-8B", "--offline"], {
  ...base,
  PATH: `${bin}:${process.env.PATH}`,
  FAKE_SMI_SCENARIO: join(FIXTURES, "hardware", "scenarios", "h100-sxm-8x-nvlink.json"),
  SERVEPILOT_VLLM_BIN: join(FIXTURES, "engines", "vllm-emulator.mjs"),
  EMULATOR_LINE_DELAY_MS: "0",
});
