/**
 * Fits the performance efficiency factors (data/engines/perf-efficiency.yaml) to the published
 * measurements in data/calibration/perf.jsonl: a coordinate search over a grid per serving engine and
 * model class, then per engine and GPU architecture where at least 6 rows exist, minimizing the worst
 * per-metric median |log(predicted / published)| (output tokens/s, TTFT, TPOT) plus the mean over all
 * comparisons. Prints YAML entries to paste into the data file: `npx tsx scripts/fit-perf.ts`.
 */
import { stringify } from "yaml";
import { DEFAULT_EFFICIENCY, type Efficiency } from "../src/core/perf/efficiency.js";
import {
  evaluatePerf,
  METRIC_GROUPS,
  type PerfComparison,
  type PreparedPerfRow,
  scorePerfRow,
} from "../src/runtime/calibration/evaluate-perf.js";

const GRID = {
  bandwidth: [0.55, 0.65, 0.75, 0.85, 0.95],
  decodeCompute: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7],
  prefillCompute: [0.03, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.65, 0.8],
  stepOverheadMs: [0.25, 0.5, 1, 2, 3, 4, 6, 8],
  allReduceLatencyUs: [5, 10, 20, 40, 80],
  moeSlowdown: [1, 1.5, 2, 3, 4, 6, 8],
};
type Knob = keyof typeof GRID;

function loss(rows: readonly PreparedPerfRow[], e: Efficiency): number {
  // the acceptance bounds are on medians: minimize the worst of the per-metric median |log ratio|, plus
  // the mean (clipped at e^2) so that the flat median surface does not leave factors arbitrary
  const comparisons = rows.flatMap((row) => scorePerfRow(row, e));
  const logError = (c: { predicted: number; published: number }) =>
    Math.min(2, Math.abs(Math.log(c.predicted / c.published)));
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : 0;
  };
  const groups = Object.values(METRIC_GROUPS)
    .map((metrics) =>
      comparisons.filter((c) => (metrics as ReadonlyArray<PerfComparison["metric"]>).includes(c.metric)),
    )
    .filter((g) => g.length > 0);
  const worstMedian = Math.max(0, ...groups.map((g) => median(g.map(logError))));
  const mean = comparisons.length
    ? comparisons.map(logError).reduce((a, b) => a + b, 0) / comparisons.length
    : 0;
  return worstMedian + mean;
}

/**
 * Coordinate descent over the grid: each factor in turn takes its best grid value with the others
 * held, until a full sweep changes nothing; started from the base entry and from grid corners, the best
 * result wins. (A full grid is 10^5 scorings per group; each scoring simulates the scheduler.)
 */
function fitGroup(rows: readonly PreparedPerfRow[], base: Efficiency): Efficiency {
  const hasMoe = rows.some((r) => r.perfInput.arch.moe);
  const hasTp = rows.some((r) => r.perfInput.tensorParallelSize > 1);
  const knobs: Knob[] = ["bandwidth", "decodeCompute", "prefillCompute", "stepOverheadMs"];
  if (hasTp) knobs.push("allReduceLatencyUs");
  if (hasMoe) knobs.push("moeSlowdown");
  const starts: Efficiency[] = [
    base,
    { ...base, bandwidth: 0.85, decodeCompute: 0.3, prefillCompute: 0.5, stepOverheadMs: 1 },
    { ...base, bandwidth: 0.65, decodeCompute: 0.1, prefillCompute: 0.12, stepOverheadMs: 8 },
    ...(hasMoe ? [{ ...base, moeSlowdown: 2 }] : []),
  ];
  let best = base;
  let bestLoss = loss(rows, base);
  for (const start of starts) {
    let current = start;
    let currentLoss = loss(rows, current);
    for (let sweep = 0; sweep < 8; sweep++) {
      let changed = false;
      for (const knob of knobs) {
        for (const value of GRID[knob]) {
          if (value === current[knob]) continue;
          const candidate = { ...current, [knob]: value };
          const l = loss(rows, candidate);
          if (l < currentLoss - 1e-9) {
            current = candidate;
            currentLoss = l;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    if (currentLoss < bestLoss) {
      best = current;
      bestLoss = currentLoss;
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
