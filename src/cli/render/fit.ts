import type { FitResult } from "../../runtime/fit.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

export function renderFit(result: FitResult, c: Colors): string {
  const head = `${c.bold(result.model.id)}: ${result.options.length} GPU options (of ${result.checked} GPU x precision checked) serve ${result.concurrency} request${result.concurrency === 1 ? "" : "s"} of ${result.maxModelLen?.toLocaleString("en-US") ?? "?"} tokens with vLLM ${result.engine.version}\n`;
  if (result.options.length === 0) {
    return `${head}${c.yellow("no catalog GPU serves it with up to 8 GPUs: lower --max-model-len or --concurrency, or raise --max-gpus")}\n`;
  }
  const rows = result.options.map((o) => [
    String(o.count),
    o.gpuId,
    o.precision,
    o.weightsGiB.toFixed(1),
    o.kvCacheGiB.toFixed(1),
    o.kvTokens.toLocaleString("en-US"),
    o.maxConcurrency.toFixed(2),
  ]);
  return (
    head +
    renderTable(
      ["GPUs", "gpu", "precision", "weights GiB/GPU", "KV GiB/GPU", "KV tokens", "concurrency"],
      rows,
    )
  );
}
