/**
 * Predicted vs observed vLLM startup memory for every row of data/calibration/vllm-memory.jsonl whose
 * model and GPU the catalogs know (`npm run eval:memory`). test/core/memory/calibration.test.ts asserts
 * the accuracy bounds on the same rows.
 */
import { evaluateCalibration, summarize } from "../src/runtime/calibration/evaluate.js";

const { rows, skipped } = await evaluateCalibration();
const pct = (value: number | null) => (value === null ? "-" : `${(value * 100).toFixed(1)}%`);
const num = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined ? "-" : value.toFixed(digits);
console.log("row | weights obs/pred | KV GiB obs/pred | tokens obs/pred | errors (weights, kv, tokens)");
for (const r of rows) {
  console.log(
    `${r.id} | ${num(r.observed.weightsGiB)}/${num(r.predicted.weightsGiB)} | ${num(r.observed.kvCacheGiB)}/${num(r.predicted.kvCacheGiB)} | ${r.observed.kvCacheTokens ?? "-"}/${r.predicted.kvCacheTokens} | ${pct(r.errors.weights)} ${pct(r.errors.kvCache)} ${pct(r.errors.tokens)}${r.predicted.failure ? ` [${r.predicted.failure}]` : ""}`,
  );
}
for (const s of skipped) console.log(`skipped ${s.id}: ${s.reason}`);
const summary = summarize(rows);
console.log(
  `\n${rows.length} rows evaluated, ${skipped.length} skipped\n` +
    `weights  median ${pct(summary.weights.median)} max ${pct(summary.weights.max)} (n=${summary.weights.n})\n` +
    `KV GiB   median ${pct(summary.kvCache.median)} max ${pct(summary.kvCache.max)} (n=${summary.kvCache.n})\n` +
    `tokens   median ${pct(summary.tokens.median)} max ${pct(summary.tokens.max)} (n=${summary.tokens.n})`,
);
const layoutRows = rows.filter((r) => r.tokensFromObservedKv !== null && r.observed.kvCacheTokens !== null);
console.log("\nKV layout check (tokens from the KV memory vLLM printed, vs the tokens it printed):");
for (const r of layoutRows) {
  const error =
    Math.abs((r.tokensFromObservedKv as number) - (r.observed.kvCacheTokens as number)) /
    (r.observed.kvCacheTokens as number);
  console.log(
    `  ${r.id}${r.standardAttention ? "" : " (hybrid / MLA)"}: ${r.tokensFromObservedKv} vs ${r.observed.kvCacheTokens} (${pct(error)})`,
  );
}
