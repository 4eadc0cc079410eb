import type { DetectionReport, MatchedGpu } from "../../runtime/detect-and-match.js";
import type { Colors } from "../output.js";
import { renderDetect } from "./detect.js";

/** The fields `debug gpu-info` shows without --detailed (no processes, MIG devices or raw tool values). */
export interface GpuInfoSummary {
  index: number;
  visibleIndex: number;
  vendor: MatchedGpu["vendor"];
  name: string;
  catalogId: string | null;
  memoryTotalMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPercent: number | null;
  computeCapability: string | null;
  gfxTarget: string | null;
}

export interface GpuInfoData {
  count: number;
  driverVersion: string | null;
  cudaVersion: string | null;
  rocmVersion: string | null;
  gpus: GpuInfoSummary[] | MatchedGpu[];
  topology?: DetectionReport["topology"];
  tools?: DetectionReport["tools"];
  warnings: string[];
}

/** The `--json` data of `debug gpu-info`: a summary per GPU, or everything detection read with `--detailed`. */
export function gpuInfoData(report: DetectionReport, detailed: boolean): GpuInfoData {
  const head = {
    count: report.gpus.length,
    driverVersion: report.driverVersion,
    cudaVersion: report.cudaVersion,
    rocmVersion: report.rocmVersion,
  };
  if (detailed) {
    return {
      ...head,
      gpus: report.gpus,
      topology: report.topology,
      tools: report.tools,
      warnings: report.warnings,
    };
  }
  return {
    ...head,
    gpus: report.gpus.map((gpu) => ({
      index: gpu.index,
      visibleIndex: gpu.visibleIndex,
      vendor: gpu.vendor,
      name: gpu.name,
      catalogId: gpu.catalogId,
      memoryTotalMiB: gpu.memoryTotalMiB,
      memoryFreeMiB: gpu.memoryFreeMiB,
      utilizationPercent: gpu.utilizationPercent,
      computeCapability: gpu.computeCapability,
      gfxTarget: gpu.gfxTarget,
    })),
    warnings: report.warnings,
  };
}

/** The detect table, plus processes, MIG devices and the topology matrix with `--detailed`. */
export function renderGpuInfo(report: DetectionReport, detailed: boolean, c: Colors): string {
  const out = [renderDetect(report, c).trimEnd()];
  if (!detailed) return `${out.join("\n")}\n`;
  for (const gpu of report.gpus) {
    const lines: string[] = [];
    for (const p of gpu.processes) {
      lines.push(
        `  process ${p.pid} ${p.name}${p.usedMemoryMiB === null ? "" : ` (${p.usedMemoryMiB} MiB)`}`,
      );
    }
    for (const m of gpu.mig.devices) lines.push(`  MIG ${m.index}: ${m.profile} ${c.dim(m.uuid)}`);
    out.push(
      "",
      `GPU ${gpu.visibleIndex}: ${gpu.name}${gpu.pciBusId ? ` ${c.dim(gpu.pciBusId)}` : ""}${gpu.uuid ? ` ${c.dim(gpu.uuid)}` : ""}`,
      `  MIG mode: ${gpu.mig.enabled === null ? "unknown" : gpu.mig.enabled ? "on" : "off"}`,
      ...(lines.length > 0 ? lines : ["  no processes"]),
    );
  }
  const topology = report.topology;
  if (topology && Object.keys(topology.matrix).length > 1) {
    const labels = Object.keys(topology.matrix);
    out.push("", "topology:");
    out.push(`  ${["", ...labels].map((l) => l.padEnd(6)).join(" ")}`.trimEnd());
    for (const row of labels) {
      const cells = labels.map((col) => (topology.matrix[row]?.[col] ?? "-").padEnd(6));
      out.push(`  ${[row.padEnd(6), ...cells].join(" ")}`.trimEnd());
    }
  }
  // renderDetect already printed the tools that failed
  for (const tool of report.tools.filter((t) => t.status === "ok" || t.status === "not-found")) {
    out.push(c.dim(`${tool.tool}: ${tool.status}${tool.message ? ` (${tool.message})` : ""}`));
  }
  return `${out.join("\n")}\n`;
}
