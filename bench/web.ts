// Web UI figures (run with `node --import tsx bench/web.ts` after `npm run build`; `npm run bench` does
// it): a `servepilot studio` process serving dist/web, warmed by one page load; then, for each run, a
// fresh headless Chromium context (empty cache) opens the dashboard and reads the browser's own
// first-contentful-paint entry (PerformancePaintTiming), median of several runs. Also prints the
// initial JavaScript's gzip size (scripts/web-size.mjs). Needs Chromium (/usr/bin/chromium or
// CHROMIUM_PATH); prints why and exits 0 without it. No assertion: the figures go in notes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { benchEnvironment, median, startStudio, stopStudio } from "./studio-process.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

if (!existsSync(CHROMIUM)) {
  console.log(`web UI bench skipped: no Chromium at ${CHROMIUM}`);
  process.exit(0);
}

const studio = await startStudio(benchEnvironment("web"));
const url = `${studio.url}/`;

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
const fcp: number[] = [];
try {
  // warm the studio (its file handles, the JIT of the static route)
  const warm = await browser.newContext();
  await (await warm.newPage()).goto(url, { waitUntil: "load" });
  await warm.close();
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url, { waitUntil: "load" });
    // the paint entry appears once the browser has painted: poll for it
    // as a string: tsx's transform would add helpers the page does not have to a function
    const value = (await page.evaluate(`new Promise((resolve) => {
      const poll = () => {
        const entry = performance.getEntriesByName("first-contentful-paint")[0];
        if (entry !== undefined) resolve(entry.startTime);
        else setTimeout(poll, 10);
      };
      poll();
    })`)) as number;
    fcp.push(value);
    await context.close();
  }
} finally {
  await browser.close();
  await stopStudio(studio);
}
const p50 = median(fcp);
console.log(
  `${"web UI first contentful paint (dashboard, warm studio)".padEnd(52)} median ${(p50 as number).toFixed(0)} ms (min ${Math.min(...fcp).toFixed(0)}, max ${Math.max(...fcp).toFixed(0)}; ${RUNS} runs)`,
);
const size = execFileSync(process.execPath, [new URL("../scripts/web-size.mjs", import.meta.url).pathname], {
  encoding: "utf8",
});
const initial = /initial JS: [\d.]+ KB, gzip ([\d.]+) KB/.exec(size)?.[1] ?? null;
console.log(size.trim());
const resultsDir = new URL("./results/", import.meta.url).pathname;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  `${resultsDir}web.json`,
  `${JSON.stringify({ ranAt: new Date().toISOString(), runs: RUNS, firstContentfulPaintMs: { median: p50, min: Math.min(...fcp), max: Math.max(...fcp) }, initialJsGzipKB: initial === null ? null : Number(initial) }, null, 2)}\n`,
);
