import type { Plan } from "../../core/plan/types.js";
import type { Colors } from "../output.js";
import { formatCount, renderTable } from "../table.js";

const BAR_WIDTH = 50;

/** One GPU's memory as a bar: weights, activation, non-torch + graphs, KV cache, left free. */
function memoryBar(plan: Plan, c: Colors): string {
  const m = plan.memory.perGpu;
  const parts: Array<[number, (s: string) => string, string]> = [
    [m.weightsGiB, c.blue, "W"],
    [m.activationGiB, c.magenta, "A"],
    [m.nonTorchGiB + m.cudaGraphGiB, c.yellow, "G"],
    [Math.max(0, m.kvCacheGiB), c.green, "K"],
  ];
  let used = 0;
  let bar = "";
  for (const [gib, paint, letter] of parts) {
    const cells = Math.round((Math.max(0, gib) / m.totalGiB) * BAR_WIDTH);
    const room = Math.max(0, BAR_WIDTH - used);
    const n = Math.min(cells, room);
    bar += paint(letter.repeat(n));
    used += n;
  }
  bar += c.dim(".".repeat(Math.max(0, BAR_WIDTH - used)));
  return `[${bar}] ${m.totalGiB} GiB  ${c.dim("W weights  A activation  G non-torch+graphs  K KV cache  . free")}`;
}

export function renderPlan(plan: Plan, c: Colors, options: { explain: boolean }): string {
  const out: string[] = [];
  const cfg = plan.config;
  const verdict = plan.fits ? c.green(c.bold("FITS")) : c.red(c.bold("DOES NOT FIT"));
  out.push(
    `${verdict}  ${plan.model.id} on ${plan.hardware.count} x ${plan.hardware.gpu} (${plan.hardware.memoryPerGpuGiB} GiB) with ${cfg.engine} ${cfg.engineVersion}`,
  );
  out.push(
    `params ${formatCount(plan.model.params.total)}${plan.model.params.active !== plan.model.params.total ? ` (${formatCount(plan.model.params.active)} active)` : ""}; TP=${cfg.tensorParallelSize} PP=${cfg.pipelineParallelSize}${cfg.replicas > 1 ? ` x ${cfg.replicas} replicas` : ""}; max_model_len ${cfg.maxModelLen.toLocaleString("en-US")}; dtype ${cfg.dtype}${cfg.quantization ? `; quantization ${cfg.quantization}` : ""}; KV ${cfg.kvCacheDtype}`,
  );
  for (const reason of plan.reasons) out.push(`  ${reason}`);
  out.push("");
  out.push(memoryBar(plan, c));
  const m = plan.memory.perGpu;
  out.push(
    renderTable(
      ["per GPU", "GiB"],
      [
        ["total", m.totalGiB.toFixed(2)],
        [`requested (x ${cfg.gpuMemoryUtilization})`, m.requestedGiB.toFixed(2)],
        ["weights", m.weightsGiB.toFixed(2)],
        ["activation (profiling peak)", m.activationGiB.toFixed(2)],
        ["non-torch", m.nonTorchGiB.toFixed(2)],
        ["CUDA graphs (in budget)", m.cudaGraphGiB.toFixed(2)],
        ["KV cache", m.kvCacheGiB.toFixed(2)],
      ],
    ).trimEnd(),
  );
  const kv = plan.kvCache;
  out.push(
    `KV cache: ${kv.tokens.toLocaleString("en-US")} tokens (${kv.numBlocks.toLocaleString("en-US")} blocks of ${kv.blockSize}); ${kv.maxConcurrency.toFixed(2)}x concurrency at ${cfg.maxModelLen.toLocaleString("en-US")} tokens; ${kv.bytesPerTokenPerGpu.toLocaleString("en-US")} bytes per token per GPU`,
  );
  const p = plan.performance;
  out.push("");
  out.push(c.bold("performance"));
  out.push(
    `  TTFT ${p.ttftMs.expected} ms (${p.ttftMs.low}-${p.ttftMs.high}), TPOT ${p.tpotMs.expected} ms (${p.tpotMs.low}-${p.tpotMs.high}), ${p.outputTokensPerSecond.expected} output tokens/s in total (${p.outputTokensPerSecond.low}-${p.outputTokensPerSecond.high}), ${p.perRequestTokensPerSecond.expected} per request`,
  );
  out.push(
    renderTable(
      ["concurrency", "output tok/s", "per request", "TPOT ms", "TTFT ms"],
      p.curve.map((point) => [
        point.concurrency === p.saturation.concurrency
          ? c.cyan(`${point.concurrency} *`)
          : String(point.concurrency),
        point.outputTokensPerSecond.toFixed(0),
        point.perRequestTokensPerSecond.toFixed(1),
        point.tpotMs.toFixed(1),
        point.ttftMs.toFixed(0),
      ]),
    )
      .trimEnd()
      .replace(/^/gm, "  "),
  );
  out.push(`  * saturation at ${p.saturation.concurrency} concurrent requests: ${p.saturation.reason}`);
  if (plan.recommendations.length > 0) {
    out.push("");
    out.push(c.bold("recommendations"));
    for (const r of plan.recommendations) out.push(`  ${c.cyan(`${r.setting} = ${r.value}`)}: ${r.why}`);
  }
  for (const warning of plan.warnings) out.push(c.yellow(`warning: ${warning}`));
  if (options.explain) {
    out.push("");
    out.push(c.bold("how"));
    for (const note of plan.notes) out.push(`  ${note}`);
    for (const assumption of p.assumptions) out.push(`  ${assumption}`);
    out.push(
      renderTable(
        ["max_model_len", "max concurrency", "fits"],
        plan.tradeoff.map((t) => [
          t.maxModelLen.toLocaleString("en-US"),
          t.maxConcurrency.toFixed(2),
          t.fits ? "yes" : "no",
        ]),
      ).trimEnd(),
    );
  }
  out.push("");
  out.push(`${c.bold("serve:")} ${plan.artifacts.serveCommand}`);
  return `${out.join("\n")}\n`;
}
