import type { LoadedModel } from "../../runtime/load-model.js";
import type { Colors } from "../output.js";
import { formatCount, formatGiB, renderTable } from "../table.js";

export function renderInspect(loaded: LoadedModel, c: Colors): string {
  const d = loaded.description;
  const a = d.architecture;
  const out: string[] = [];
  const from =
    loaded.origin.kind === "catalog"
      ? `catalog: ${loaded.catalogEntry?.origin.kind === "user" ? loaded.catalogEntry.origin.file : "built-in"}`
      : `${loaded.origin.kind}: ${loaded.origin.location}${loaded.origin.revision ? `@${loaded.origin.revision}` : ""}`;
  out.push(`${c.bold(loaded.id)}  ${c.dim(`(${from})`)}`);
  const type = a.wrapperType ? `${a.wrapperType} (text: ${a.modelType})` : a.modelType;
  out.push(
    `type ${type}${a.generic ? c.yellow(" [generic decoder]") : ""}, ${a.numLayers} layers, hidden ${a.hiddenSize}, vocab ${a.vocabSize}, context ${a.maxContext ?? "unknown"}, dtype ${a.dtype ?? "unknown"}`,
  );
  const att = a.attention;
  const attention = att.mla
    ? `MLA: ${att.numHeads} heads, kv_lora_rank ${att.mla.kvLoraRank}, q_lora_rank ${att.mla.qLoraRank ?? "none"}, rope ${att.mla.qkRopeHeadDim}, v ${att.mla.vHeadDim}`
    : `${att.numHeads} heads, ${att.numKvHeads} KV heads, head_dim ${att.headDim}`;
  const kinds = Object.entries(d.layerSummary.attention)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(", ");
  out.push(
    `attention ${attention}; layers: ${kinds}${att.slidingWindow ? `; window ${att.slidingWindow}` : ""}${att.chunkSize ? `; chunk ${att.chunkSize}` : ""}`,
  );
  if (a.moe) {
    const m = a.moe;
    out.push(
      `MoE ${m.numExperts} experts, ${m.expertsPerToken} per token, expert size ${m.expertIntermediateSize}${m.numSharedExperts ? `, ${m.numSharedExperts} shared (${m.sharedIntermediateSize})` : ""}; ${d.layerSummary.mlp.moe ?? 0} MoE / ${d.layerSummary.mlp.dense ?? 0} dense layers`,
    );
  }
  if (a.vision)
    out.push(`vision ${a.vision.kind}: ${a.vision.numLayers} layers, hidden ${a.vision.hiddenSize}`);
  if (a.quantization) {
    const q = a.quantization;
    out.push(
      `quantization ${q.method} ${q.scheme}, ${q.weightBits}-bit${q.groupSize ? `, one scale per ${q.groupSize} weights` : ""}, ${q.bytesPerWeight.toFixed(3)} bytes/weight`,
    );
  }
  out.push("");
  const p = d.params;
  const rows = Object.entries(p.components)
    .filter(([, value]) => value > 0)
    .map(([name, value]) => [name, formatCount(value), `${((value / p.total) * 100).toFixed(1)}%`]);
  out.push(renderTable(["component", "params", "share"], rows).trimEnd());
  out.push(
    `${c.bold("total")} ${formatCount(p.total)}${a.moe ? `, active ${formatCount(p.active)}` : ""} (${p.source})${p.published ? `, published ${formatCount(p.published)}` : ""}${p.mtp ? `; MTP module ${formatCount(p.mtp)} not included` : ""}`,
  );
  out.push(`weights ${formatGiB(d.weightBytes)} in the checkpoint`);
  out.push(
    `KV cache ${d.kvCache.bytesPerToken.toLocaleString("en-US")} bytes per token (${d.kvCache.dtype}, all layers, before window caps)${d.kvCache.stateBytesPerSequence ? `; linear-attention state ${formatGiB(d.kvCache.stateBytesPerSequence)} per sequence` : ""}`,
  );
  for (const warning of d.warnings) out.push(c.yellow(`warning: ${warning}`));
  return `${out.join("\n")}\n`;
}
