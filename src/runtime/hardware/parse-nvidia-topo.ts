/**
 * Parser for the matrix of `nvidia-smi topo -m`:
 *
 *         GPU0    GPU1    NIC0    CPU Affinity    NUMA Affinity   GPU NUMA ID
 *   GPU0   X      NV18    SYS     0-47            0               N/A
 *
 * Cells: X (self), NV# (a bonded set of # NVLinks), and the PCIe paths SYS, NODE, PHB, PXB, PIX
 * (SOC in old drivers). Columns are tab- or space-separated depending on how the output was
 * captured, and newer drivers underline the header with terminal escapes; both are handled.
 */
import type { Parsed } from "./parsed.js";
import { stripAnsi } from "./smi-values.js";
import type { GpuLink } from "./types.js";

export interface NvidiaTopology {
  /** Device column labels in order: "GPU0", "GPU1", "NIC0", "mlx5_0", ... */
  devices: string[];
  /** Every device row: label → column label → cell. */
  matrix: Record<string, Record<string, string>>;
}

const PCIE_KINDS = new Set(["SYS", "NODE", "PHB", "PXB", "PIX", "SOC", "PCI"]);
const GPU_LABEL = /^GPU(\d+)$/;

/** Classifies one matrix cell. */
export function classifyLink(cell: string): Pick<GpuLink, "kind" | "nvlinks"> {
  const nvlink = /^NV(\d+)$/.exec(cell);
  if (nvlink !== null) return { kind: "nvlink", nvlinks: Number(nvlink[1]) };
  if (PCIE_KINDS.has(cell)) return { kind: "pcie", nvlinks: null };
  return { kind: "unknown", nvlinks: null };
}

export function parseNvidiaTopology(text: string): Parsed<NvidiaTopology> {
  const lines = stripAnsi(text)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const headerAt = lines.findIndex((line) => line.startsWith("GPU0"));
  if (headerAt < 0 || lines[headerAt]?.split(/\s+/)[1] === "X") {
    return { ok: false, error: "no header row starting with GPU0" };
  }
  const headerTokens = (lines[headerAt] ?? "").split(/\s+/);
  const cpuAt = headerTokens.indexOf("CPU");
  const devices = cpuAt < 0 ? headerTokens : headerTokens.slice(0, cpuAt);
  if (!devices.every((label) => /^[A-Za-z][\w.-]*$/.test(label))) {
    return { ok: false, error: `unexpected column labels: ${devices.join(" ")}` };
  }
  const matrix: Record<string, Record<string, string>> = {};
  for (const line of lines.slice(headerAt + 1)) {
    if (line.startsWith("Legend")) break;
    const tokens = line.split(/\s+/);
    const label = tokens[0] ?? "";
    if (!devices.includes(label)) break;
    const cells = tokens.slice(1, 1 + devices.length);
    if (cells.length < devices.length) {
      return { ok: false, error: `row ${label} has ${cells.length} cells, expected ${devices.length}` };
    }
    const row: Record<string, string> = {};
    devices.forEach((column, i) => {
      row[column] = cells[i] ?? "";
    });
    if (row[label] !== "X") return { ok: false, error: `row ${label} does not have X on the diagonal` };
    matrix[label] = row;
  }
  const gpuRows = devices.filter((label) => GPU_LABEL.test(label) && matrix[label] !== undefined);
  if (gpuRows.length === 0) return { ok: false, error: "no GPU rows in the matrix" };
  return { ok: true, value: { devices, matrix } };
}

/** GPU physical index from a label ("GPU3" → 3), or null for NICs. */
export function gpuIndexOfLabel(label: string): number | null {
  const match = GPU_LABEL.exec(label);
  return match === null ? null : Number(match[1]);
}

/**
 * GPU-to-GPU links among `gpuIndices` (physical), one per unordered pair, ordered by (a, b). A pair
 * missing from the matrix is left out.
 */
export function summariseGpuLinks(topology: NvidiaTopology, gpuIndices: readonly number[]): GpuLink[] {
  const sorted = [...new Set(gpuIndices)].sort((x, y) => x - y);
  const links: GpuLink[] = [];
  for (const [i, a] of sorted.entries()) {
    for (const b of sorted.slice(i + 1)) {
      const cell = topology.matrix[`GPU${a}`]?.[`GPU${b}`];
      if (cell === undefined) continue;
      links.push({ a, b, link: cell, ...classifyLink(cell) });
    }
  }
  return links;
}
