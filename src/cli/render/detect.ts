import type { DetectionReport } from "../../runtime/detect-and-match.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

function mib(value: number | null): string {
  return value === null ? "?" : `${(value / 1024).toFixed(1)}`;
}

export function renderDetect(report: DetectionReport, c: Colors): string {
  const out: string[] = [];
  const versions = [
    report.driverVersion && `driver ${report.driverVersion}`,
    report.cudaVersion && `CUDA ${report.cudaVersion}`,
    report.rocmVersion && `ROCm ${report.rocmVersion}`,
  ].filter(Boolean);
  out.push(
    `${report.gpus.length} GPU${report.gpus.length === 1 ? "" : "s"}${versions.length ? ` (${versions.join(", ")})` : ""}`,
  );
  if (report.gpus.length > 0) {
    const rows = report.gpus.map((gpu) => [
      String(gpu.visibleIndex) + (gpu.visibleIndex !== gpu.index ? c.dim(` (phys ${gpu.index})`) : ""),
      gpu.name,
      gpu.catalogId ?? c.yellow("not in catalog"),
      `${mib(gpu.memoryUsedMiB)} / ${mib(gpu.memoryTotalMiB)} GiB`,
      gpu.utilizationPercent === null ? "-" : `${gpu.utilizationPercent}%`,
      gpu.temperatureC === null ? "-" : `${gpu.temperatureC}C`,
      gpu.powerDrawW === null
        ? "-"
        : `${Math.round(gpu.powerDrawW)}${gpu.powerLimitW === null ? "" : `/${Math.round(gpu.powerLimitW)}`} W`,
      gpu.computeCapability ?? gpu.gfxTarget ?? "-",
      gpu.mig.devices.length ? `${gpu.mig.devices.length} MIG` : gpu.mig.enabled ? "MIG on" : "",
      String(gpu.processes.length),
    ]);
    out.push(
      renderTable(
        ["#", "name", "catalog", "memory used", "util", "temp", "power", "cc/gfx", "mig", "procs"],
        rows,
      ).trimEnd(),
    );
  }
  if (report.topology && report.topology.allNvlink !== null) {
    out.push(
      report.topology.allNvlink
        ? "topology: all GPU pairs connected by NVLink"
        : "topology: not all GPU pairs are NVLink-connected (PCIe between some)",
    );
  }
  // A tool that is simply absent is only news when nothing was found at all.
  const quiet = report.gpus.length > 0;
  for (const tool of report.tools.filter((t) => t.status !== "ok" && !(quiet && t.status === "not-found"))) {
    out.push(c.dim(`${tool.tool}: ${tool.status}${tool.message ? ` (${tool.message})` : ""}`));
  }
  for (const warning of report.warnings) out.push(c.yellow(`warning: ${warning}`));
  return `${out.join("\n")}\n`;
}
