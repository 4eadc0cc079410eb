/**
 * What GPU detection reports: raw device facts as the vendor tools print them, normalised to
 * numbers where that is safe. A value a tool did not report ("[N/A]", "[Not Supported]", "N/A") is
 * `null`, never 0 or "unknown". Matching a device to the GPU catalog is the caller's job.
 */

export type GpuVendor = "nvidia" | "amd";

export interface MigDevice {
  /** "MIG-…" UUID as `nvidia-smi -L` prints it. */
  uuid: string;
  /** Profile name, e.g. "3g.40gb" or "1c.3g.71gb". */
  profile: string;
  /** MIG device index within its parent GPU. */
  index: number;
}

export interface GpuProcess {
  pid: number;
  name: string;
  usedMemoryMiB: number | null;
}

export interface DetectedGpu {
  vendor: GpuVendor;
  /** Physical index as the tool prints it. */
  index: number;
  /** Index as the engine will see it after *_VISIBLE_DEVICES (0-based, in the order given). */
  visibleIndex: number;
  uuid: string | null;
  /** Exactly as the tool printed it. */
  name: string;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  /** NVIDIA compute capability, e.g. "9.0". */
  computeCapability: string | null;
  /** AMD gfx target, e.g. "gfx942". */
  gfxTarget: string | null;
  pciBusId: string | null;
  mig: { enabled: boolean | null; devices: MigDevice[] };
  processes: GpuProcess[];
  /**
   * The tool's own strings for values that were normalised or re-spelled (key = the tool's field
   * name, e.g. "memory.total", "GFX Version"), so a surprising number can be traced to its source.
   */
  raw?: Record<string, string>;
}

export type SmiTool = "nvidia-smi" | "amd-smi" | "rocm-smi";

export interface ToolOutcome {
  tool: SmiTool;
  /**
   * ok: the tool answered and its output was read. not-found: not on PATH (ENOENT). failed: it
   * exited non-zero or could not be started. timeout: killed after the time limit. unparseable: it
   * exited 0 but its output was not what it prints.
   */
  status: "ok" | "not-found" | "failed" | "timeout" | "unparseable";
  message: string | null;
}

/** One pair of GPUs in `nvidia-smi topo -m`, physical indices, a < b. */
export interface GpuLink {
  a: number;
  b: number;
  /** The matrix cell as printed: "NV18", "SYS", "PHB", "PXB", "PIX", "NODE", ... */
  link: string;
  /** "nvlink" for NV#, "pcie" for the PCIe/SMP kinds, "unknown" otherwise. */
  kind: "nvlink" | "pcie" | "unknown";
  /** Number of bonded NVLinks for NV#, else null. */
  nvlinks: number | null;
}

export interface GpuTopology {
  /** GPU-to-GPU cells keyed by the tool's labels ("GPU0" → "GPU1" → "NV18"); visible GPUs only. */
  matrix: Record<string, Record<string, string>>;
  /** true when every pair of visible GPUs is NVLink-connected; null with fewer than two GPUs. */
  allNvlink: boolean | null;
  /** Per-pair summary of `matrix`. */
  pairs: GpuLink[];
}

export interface GpuDetection {
  gpus: DetectedGpu[];
  driverVersion: string | null;
  cudaVersion: string | null;
  rocmVersion: string | null;
  topology: GpuTopology | null;
  /** What was tried and how it went. */
  tools: ToolOutcome[];
  warnings: string[];
}

export interface DetectGpusOptions {
  /** Environment to read *_VISIBLE_DEVICES from (default: process.env). Also passed to the tools. */
  env?: NodeJS.ProcessEnv;
  /** Time limit per tool invocation in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Paths of the tools (default: found on PATH by name). */
  bins?: { nvidiaSmi?: string; amdSmi?: string; rocmSmi?: string };
}
