/**
 * Fits the performance efficiency factors (data/engines/perf-efficiency.yaml) to the published
 * measurements in data/calibration/perf.jsonl: a grid search per serving engine, then per engine and
 * GPU architecture where at least 6 rows exist, minimizing the mean |log(predicted / published)| over
 * throughput, TTFT and TPOT. Prints YAML entries to paste into the data file: `npx tsx scripts/fit-perf.ts`.
 */
import { stringify } from "yaml";
import { DEFAULT_EFFICIENCY, type Efficiency } from "../src/core/perf/efficiency.js";
import {
  evaluatePerf,
  type PreparedPerfRow,
  scorePerfRow,
} from "../src/runtime/calibration/evaluate-perf.js";

const GRID = {
  bandwidth: [0.45, 0.55, 0.65, 0.75, 0.85, 0.95],
  decodeCompute: [0.1, 0.2, 0.35, 0.5, 0.7],
  prefillCompute: [0.04, 0.08, 0.15, 0.25, 0.4, 0.6, 0.8],
  stepOverheadMs: [0.5, 1, 2, 4, 8, 16],
  moeSlowdown: [1, 2, 4, 8],
};

function loss(rows: readonly PreparedPerfRow[], e: Efficiency): number {
  // the acceptance bounds are on medians: minimize the worst of the per-metric median |log ratio|,
  // with the mean as a tie-breaker so outliers still pull a little
  const comparisons = rows.flatMap((row) => scorePerfRow(row, e));
  const logError = (c: { predicted: number; published: number }) =>
    Math.min(2, Math.abs(Math.log(c.predicted / c.published)));
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : 0;
  };
  const groups = [
    comparisons.filter((c) => c.metric === "outputTokensPerSecond" || c.metric === "decodeTokensPerSecond"),
    comparisons.filter((c) => c.metric === "ttftMs" || c.metric === "prefillTokensPerSecond"),
    comparisons.filter((c) => c.metric === "tpotMs"),
  ].filter((g) => g.length > 0);
  const worstMedian = Math.max(0, ...groups.map((g) => median(g.map(logError))));
  const mean = comparisons.length
    ? comparisons.map(logError).reduce((a, b) => a + b, 0) / comparisons.length
    : 0;
  return worstMedian + 0.25 * mean;
}

function fitGroup(rows: readonly PreparedPerfRow[], base: Efficiency): Efficiency {
  let best = base;
  let bestLoss = loss(rows, base);
  const hasMoe = rows.some((r) => r.perfInput.arch.moe);
  for (const bandwidth of GRID.bandwidth)
    for (const decodeCompute of GRID.decodeCompute)
      for (const prefillCompute of GRID.prefillCompute)
        for (const stepOverheadMs of GRID.stepOverheadMs)
          for (const moeSlowdown of hasMoe ? GRID.moeSlowdown : [base.moeSlowdown]) {
            const candidate = {
              ...base,
              bandwidth,
              decodeCompute,
              prefillCompute,
              stepOverheadMs,
              moeSlowdown,
            };
            const l = loss(rows, candidate);
            if (l < bestLoss) {
              best = candidate;
              bestLoss = l;
            }
          }
  return best;
}

const { prepared } = await evaluatePerf({ efficiency: [DEFAULT_EFFICIENCY] });
const entries: Efficiency[] = [];
const describe = (rows: readonly PreparedPerfRow[]) =>
  `fitted on ${rows.length} rows of data/calibration/perf.jsonl: ${rows.map((r) => r.row.id).join(", ")}`;
const engines = [...new Set(prepared.map((p) => p.row.engine))].sort();
for (const engine of engines) {
  for (const modelClass of ["dense", "moe"] as const) {
    const rows = prepared.filter(
      (p) => p.row.engine === engine && (p.perfInput.arch.moe ? "moe" : "dense") === modelClass,
    );
    if (rows.length === 0) continue;
    const classFit = fitGroup(rows, {
      ...DEFAULT_EFFICIENCY,
      id: `perf-${engine}-${modelClass}`,
      servingEngine: engine,
      architecture: "*",
      modelClass,
    });
    entries.push({ ...classFit, source: describe(rows) });
    const archs = [...new Set(rows.map((r) => r.architecture))].sort();
    for (const arch of archs) {
      const archRows = rows.filter((r) => r.architecture === arch);
      if (archRows.length < 6 || archs.length === 1) continue;
      const archFit = fitGroup(archRows, {
        ...classFit,
        id: `perf-${engine}-${modelClass}-${arch}`,
        architecture: arch,
      });
      entries.push({ ...archFit, source: describe(archRows) });
    }
  }
}
console.log(stringify(entries.map(({ notes: _notes, ...rest }) => rest)));
