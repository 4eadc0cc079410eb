/**
 * Pure parsers for `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`, the compute-apps
 * query, and the plain `nvidia-smi` banner. Text in, data (or a typed failure) out.
 */
import type { Parsed } from "./parsed.js";
import { readSmiInteger, readSmiNumber, readSmiString, stripAnsi } from "./smi-values.js";
import type { DetectedGpu, GpuProcess } from "./types.js";

/**
 * The fields queried from nvidia-smi, in order. `compute_cap` (driver >= 510) and
 * `mig.mode.current` are unknown to old drivers, which answer 'Field "x" is not a valid field to
 * query.'; the detector then drops that field and asks again.
 */
export const NVIDIA_GPU_FIELDS = [
  "index",
  "uuid",
  "name",
  "memory.total",
  "memory.used",
  "memory.free",
  "utilization.gpu",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "compute_cap",
  "driver_version",
  "pci.bus_id",
  "mig.mode.current",
] as const;

export const NVIDIA_APP_FIELDS = ["gpu_uuid", "pid", "process_name", "used_gpu_memory"] as const;

export type CsvRow = Record<string, string>;

/**
 * Splits nvidia-smi CSV (", "-separated, no quoting) into one record per line, keyed by `fields`.
 * nvidia-smi does not quote values, so a value containing ", " (a process name) would add columns:
 * the extra cells are joined back into `textField`. Any other count mismatch is a parse error.
 */
export function parseNvidiaCsv(
  text: string,
  fields: readonly string[],
  textField?: string,
): Parsed<CsvRow[]> {
  const rows: CsvRow[] = [];
  const lines = stripAnsi(text).split(/\r?\n/);
  for (const [lineIndex, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let cells = line.split(",").map((cell) => cell.trim());
    const textAt = textField === undefined ? -1 : fields.indexOf(textField);
    if (cells.length > fields.length && textAt >= 0) {
      const extra = cells.length - fields.length;
      const joined = cells.slice(textAt, textAt + extra + 1).join(", ");
      cells = [...cells.slice(0, textAt), joined, ...cells.slice(textAt + extra + 1)];
    }
    if (cells.length !== fields.length) {
      const shown = line.length > 120 ? `${line.slice(0, 117)}...` : line;
      return {
        ok: false,
        error: `line ${lineIndex + 1} has ${cells.length} values, expected ${fields.length} (${fields.join(",")}): "${shown}"`,
      };
    }
    const row: CsvRow = {};
    fields.forEach((field, i) => {
      row[field] = cells[i] ?? "";
    });
    rows.push(row);
  }
  return { ok: true, value: rows };
}

/** The field an old driver rejected ('Field "compute_cap" is not a valid field to query.'), or null. */
export function parseInvalidQueryField(text: string): string | null {
  const match = /Field "([^"]+)" is not a valid field to query/.exec(text);
  return match?.[1] ?? null;
}

/** A GPU as read from one query-gpu row, before visibility and MIG/process details are added. */
export type NvidiaGpuRow = Omit<DetectedGpu, "visibleIndex" | "processes"> & { driverVersion: string | null };

const RAW_KEPT = [
  "memory.total",
  "memory.used",
  "memory.free",
  "power.draw",
  "power.limit",
  "mig.mode.current",
];

/** Converts query-gpu rows to GPUs; a row without a readable index or name is an error. */
export function readNvidiaGpuRows(rows: readonly CsvRow[]): Parsed<NvidiaGpuRow[]> {
  const gpus: NvidiaGpuRow[] = [];
  for (const [position, row] of rows.entries()) {
    const index = readSmiInteger(row.index ?? String(position));
    const name = readSmiString(row.name);
    if (index === null || name === null) {
      return { ok: false, error: `row ${position + 1} has no GPU index or name (${JSON.stringify(row)})` };
    }
    const migMode = readSmiString(row["mig.mode.current"]);
    const raw: Record<string, string> = {};
    for (const key of RAW_KEPT) {
      const value = row[key];
      if (value !== undefined) raw[key] = value;
    }
    const computeCap = readSmiString(row.compute_cap);
    gpus.push({
      vendor: "nvidia",
      index,
      uuid: readSmiString(row.uuid),
      name,
      memoryTotalMiB: readSmiNumber(row["memory.total"]),
      memoryUsedMiB: readSmiNumber(row["memory.used"]),
      memoryFreeMiB: readSmiNumber(row["memory.free"]),
      utilizationPercent: readSmiNumber(row["utilization.gpu"]),
      temperatureC: readSmiNumber(row["temperature.gpu"]),
      powerDrawW: readSmiNumber(row["power.draw"]),
      powerLimitW: readSmiNumber(row["power.limit"]),
      computeCapability: computeCap !== null && /^\d+\.\d+$/.test(computeCap) ? computeCap : null,
      gfxTarget: null,
      pciBusId: readSmiString(row["pci.bus_id"]),
      mig: { enabled: migMode === null ? null : migMode.toLowerCase() === "enabled", devices: [] },
      driverVersion: readSmiString(row.driver_version),
      raw,
    });
  }
  return { ok: true, value: gpus };
}

/** Parses query-gpu output for `fields` in one step. */
export function parseNvidiaGpuQuery(text: string, fields: readonly string[]): Parsed<NvidiaGpuRow[]> {
  const rows = parseNvidiaCsv(text, fields, "name");
  if (!rows.ok) return rows;
  return readNvidiaGpuRows(rows.value);
}

export interface NvidiaProcessRow extends GpuProcess {
  gpuUuid: string;
}

/** Parses `--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory`. Empty output = none. */
export function parseNvidiaComputeApps(text: string): Parsed<NvidiaProcessRow[]> {
  const rows = parseNvidiaCsv(text, NVIDIA_APP_FIELDS, "process_name");
  if (!rows.ok) return rows;
  const processes: NvidiaProcessRow[] = [];
  for (const row of rows.value) {
    const gpuUuid = readSmiString(row.gpu_uuid);
    const pid = readSmiInteger(row.pid);
    if (gpuUuid === null || pid === null) {
      return { ok: false, error: `compute-apps row without GPU UUID or PID: ${JSON.stringify(row)}` };
    }
    processes.push({
      gpuUuid,
      pid,
      name: row.process_name ?? "",
      usedMemoryMiB: readSmiNumber(row.used_gpu_memory),
    });
  }
  return { ok: true, value: processes };
}

export interface NvidiaBanner {
  smiVersion: string | null;
  driverVersion: string | null;
  cudaVersion: string | null;
}

/**
 * Reads the versions from the header of plain `nvidia-smi`:
 * "| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4 |". Newer drivers may
 * spell the last one "CUDA UMD Version". Returns an error when there is no such header.
 */
export function parseNvidiaBanner(text: string): Parsed<NvidiaBanner> {
  const smi = /NVIDIA-SMI\s+(\d+(?:\.\d+)+)/.exec(text);
  const driver = /Driver Version:\s*(\d+(?:\.\d+)+)/.exec(text);
  const cuda = /CUDA (?:UMD )?Version:\s*(\d+(?:\.\d+)+)/.exec(text);
  if (smi === null && driver === null) {
    return { ok: false, error: "no 'NVIDIA-SMI … Driver Version' header in the output" };
  }
  return {
    ok: true,
    value: {
      smiVersion: smi?.[1] ?? null,
      driverVersion: driver?.[1] ?? null,
      cudaVersion: cuda?.[1] ?? null,
    },
  };
}
