/**
 * Predicted vs published performance for every row of data/calibration/perf.jsonl the catalogs can
 * describe (`npm run eval:perf`). test/core/perf/calibration.test.ts asserts the bound (25% median).
 */
import { evaluatePerf, METRIC_GROUPS, medianError } from "../src/runtime/calibration/evaluate-perf.js";

const { comparisons, skipped } = await evaluatePerf();
const pct = (v: number | null) => (v === null ? "-" : `${(v * 100).toFixed(1)}%`);
console.log("row | metric | published | predicted | error");
for (const c of comparisons) {
  console.log(
    `${c.id} | ${c.metric} | ${c.published.toFixed(1)} | ${c.predicted.toFixed(1)} | ${pct(c.error)}`,
  );
}
for (const s of skipped) console.log(`skipped ${s.id}: ${s.reason}`);
const throughput = medianError(comparisons, METRIC_GROUPS.throughput);
const ttft = medianError(comparisons, METRIC_GROUPS.ttft);
const tpot = medianError(comparisons, METRIC_GROUPS.tpot);
console.log(
  `\n${comparisons.length} comparisons from ${new Set(comparisons.map((c) => c.id)).size} rows, ${skipped.length} rows skipped\n` +
    `output tokens/s median |error| ${pct(throughput.median)} (n=${throughput.n})\n` +
    `TTFT / prefill   median |error| ${pct(ttft.median)} (n=${ttft.n})\n` +
    `TPOT             median |error| ${pct(tpot.median)} (n=${tpot.n})`,
);
