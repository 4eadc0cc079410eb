// Studio figures (run with `node --import tsx bench/studio.ts` after `npm run build`; `npm run bench`
// does it). Each run starts `servepilot studio` as a fresh process, as a user would:
//  - cold start: process spawn until GET /api/health answers 200 (median of several runs);
//  - idle RSS: resident memory of the studio process after it has idled a few seconds, sampling
//    the (replayed) GPUs once per second;
//  - SSE fan-out: CPU % of the studio process over a window while 100 clients read /api/events and
//    the GPU sampler publishes one event per second, against the same window with no client.
// Prints figures; no assertion — they go in the closing note.
import { readFileSync } from "node:fs";
import { benchEnvironment, median, sleep, startStudio, stopStudio } from "./studio-process.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 20);
const CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 100);
const CLOCK_TICKS = 100; // USER_HZ on Linux

const environment = () => benchEnvironment("studio");

function procStat(pid: number): { cpuTicks: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssBytes: rssKb * 1024 };
}

async function cpuPercentOver(pid: number, seconds: number): Promise<number> {
  const before = procStat(pid).cpuTicks;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const ticks = procStat(pid).cpuTicks - before;
  return ((ticks / CLOCK_TICKS) * 100) / ((performance.now() - t0) / 1000);
}

/** Opens `count` SSE readers; returns how many events they received in total, and a closer. */
async function openClients(url: string, count: number) {
  let received = 0;
  const controllers: AbortController[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const abort = new AbortController();
      controllers.push(abort);
      const response = await fetch(`${url}/api/events`, { signal: abort.signal });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      void (async () => {
        for (;;) {
          const { value, done } = await reader
            .read()
            .catch(() => ({ value: undefined, done: true as const }));
          if (done) return;
          received += (decoder.decode(value).match(/^data: /gm) ?? []).length;
        }
      })();
    }),
  );
  return {
    received: () => received,
    close: () => {
      for (const c of controllers) c.abort();
    },
  };
}

const env = environment();
console.log(`studio, ${RUNS} runs (node ${process.version})`);
const coldStarts: number[] = [];
const idleRss: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const running = await startStudio(env);
  coldStarts.push(running.readyMs);
  await sleep(5000);
  idleRss.push(procStat(running.child.pid as number).rssBytes);
  await stopStudio(running);
}
const fmt = (values: number[], unit: string, scale = 1) =>
  `median ${(median(values) / scale).toFixed(unit === "ms" ? 0 : 1)} ${unit} (min ${(Math.min(...values) / scale).toFixed(unit === "ms" ? 0 : 1)}, max ${(Math.max(...values) / scale).toFixed(unit === "ms" ? 0 : 1)})`;
console.log(`${"studio cold start to /api/health 200".padEnd(52)} ${fmt(coldStarts, "ms")}`);
console.log(`${"studio idle RSS (5 s after start)".padEnd(52)} ${fmt(idleRss, "MiB", 1024 * 1024)}`);

const running = await startStudio(env);
const pid = running.child.pid as number;
await sleep(3000);
const idleCpu = await cpuPercentOver(pid, WINDOW_S);
const clients = await openClients(running.url, CLIENTS);
await sleep(2000);
const receivedBefore = clients.received();
const fanoutCpu = await cpuPercentOver(pid, WINDOW_S);
const perClientRate = (clients.received() - receivedBefore) / CLIENTS / WINDOW_S;
const rssWithClients = procStat(pid).rssBytes;
clients.close();
await stopStudio(running);
console.log(`${"studio CPU, no event-stream client".padEnd(52)} ${idleCpu.toFixed(2)} % over ${WINDOW_S} s`);
console.log(
  `${`studio CPU, ${CLIENTS} event-stream clients`.padEnd(52)} ${fanoutCpu.toFixed(2)} % over ${WINDOW_S} s (${perClientRate.toFixed(2)} events/s per client, RSS ${(rssWithClients / 1024 / 1024).toFixed(1)} MiB)`,
);
