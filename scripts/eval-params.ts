/**
 * Prints computed vs officially published parameter counts for every catalog model that has a
 * published figure (`npm run eval:params`). test/core/model/published-params.test.ts asserts the
 * bound (1%) on the same set.
 */

import { describeModel } from "../src/core/model/describe-model.js";
import { loadModelCatalog } from "../src/runtime/catalog/model-catalog.js";

const catalog = await loadModelCatalog();
const rows: Array<[string, string, string, string, string]> = [];
const errors: number[] = [];
for (const entry of catalog.entries) {
  let d: ReturnType<typeof describeModel>;
  try {
    d = describeModel({ config: entry.config, label: `${entry.origin.file}: ${entry.id}` });
  } catch (error) {
    rows.push([entry.id, "error", "-", "-", (error as Error).message]);
    continue;
  }
  const published = entry.publishedParams;
  const error = published ? (d.params.total - published) / published : null;
  if (error !== null) errors.push(Math.abs(error));
  rows.push([
    entry.id,
    (d.params.total / 1e9).toFixed(3),
    published ? (published / 1e9).toFixed(3) : "-",
    error === null ? "-" : `${(error * 100).toFixed(2)}%`,
    d.warnings.length ? "warnings" : "",
  ]);
}
const width = Math.max(...rows.map((row) => row[0].length));
console.log(`${"model".padEnd(width)}  computed(B)  published(B)     error`);
for (const [id, computed, published, error, note] of rows) {
  console.log(
    `${id.padEnd(width)}  ${computed.padStart(11)}  ${published.padStart(12)}  ${error.padStart(8)} ${note}`,
  );
}
errors.sort((a, b) => a - b);
const median = errors[Math.floor(errors.length / 2)] ?? 0;
const within = errors.filter((e) => e <= 0.01).length;
console.log(
  `\n${errors.length} models with a published count; ${within} within 1%; median |error| ${(median * 100).toFixed(2)}%, max ${((errors.at(-1) ?? 0) * 100).toFixed(2)}%`,
);
