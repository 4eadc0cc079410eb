/**
 * Pure parsers for amd-smi's JSON: `static --json`, `list --json`, `metric --json`, `version --json`.
 * Shapes seen in captures: ROCm >= 7 wraps the per-GPU records in {"gpu_data": [...]}, earlier
 * versions print the bare array (rocm-blogs amd-smi-overview indexes it with `.[0]`). Values are
 * numbers, "N/A", or {"value", "unit"} objects. Any text before the JSON (permission warnings) is
 * returned as `preamble`.
 */
import { pick, readQuantity, readText, toCelsius, toMiB, toPercent, toWatts } from "./amd-quantity.js";
import { extractJson, isRecord } from "./extract-json.js";
import type { Parsed } from "./parsed.js";

export interface AmdSmiRecords {
  records: Record<string, unknown>[];
  preamble: string | null;
}

/** The per-GPU records of any amd-smi JSON command, in either shape. */
export function parseAmdSmiRecords(text: string): Parsed<AmdSmiRecords> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const { value, preamble } = json.value;
  const list = Array.isArray(value) ? value : isRecord(value) ? value.gpu_data : undefined;
  if (!Array.isArray(list)) {
    return { ok: false, error: "expected a JSON array or an object with a gpu_data array" };
  }
  const records = list.filter(isRecord);
  if (records.length !== list.length)
    return { ok: false, error: "gpu_data holds entries that are not objects" };
  return { ok: true, value: { records, preamble } };
}

function readGpuIndex(record: Record<string, unknown>): number | null {
  const gpu = record.gpu;
  if (typeof gpu === "number" && Number.isSafeInteger(gpu) && gpu >= 0) return gpu;
  if (typeof gpu === "string" && /^\d+$/.test(gpu)) return Number(gpu);
  return null;
}

export interface AmdSmiStaticGpu {
  index: number;
  /** asic.market_name, else board.product_name; null when amd-smi printed neither (no permission). */
  name: string | null;
  gfxTarget: string | null;
  pciBusId: string | null;
  asicSerial: string | null;
  memoryTotalMiB: number | null;
  powerLimitW: number | null;
  driverVersion: string | null;
  raw: Record<string, string>;
}

export interface AmdSmiStatic {
  gpus: AmdSmiStaticGpu[];
  preamble: string | null;
}

export function parseAmdSmiStatic(text: string): Parsed<AmdSmiStatic> {
  const parsed = parseAmdSmiRecords(text);
  if (!parsed.ok) return parsed;
  const gpus: AmdSmiStaticGpu[] = [];
  for (const [position, record] of parsed.value.records.entries()) {
    const index = readGpuIndex(record);
    if (index === null) return { ok: false, error: `record ${position} has no "gpu" index` };
    const marketName = readText(pick(record, "asic", "market_name"));
    const productName = readText(pick(record, "board", "product_name"));
    const gfx = readText(pick(record, "asic", "target_graphics_version"));
    const vram = pick(record, "vram", "size") ?? pick(record, "vram", "vram_size");
    const limit =
      pick(record, "limit", "ppt0", "socket_power_limit") ??
      pick(record, "limit", "socket_power") ??
      pick(record, "limit", "power_cap");
    const raw: Record<string, string> = {};
    if (marketName !== null) raw["asic.market_name"] = marketName;
    if (productName !== null) raw["board.product_name"] = productName;
    if (vram !== undefined) raw["vram.size"] = JSON.stringify(vram);
    gpus.push({
      index,
      name: marketName ?? productName,
      gfxTarget: gfx !== null && /^gfx[0-9a-f]+$/i.test(gfx) ? gfx.toLowerCase() : null,
      pciBusId: readText(pick(record, "bus", "bdf")),
      asicSerial: readText(pick(record, "asic", "asic_serial")),
      memoryTotalMiB: toMiB(readQuantity(vram)),
      powerLimitW: toWatts(readQuantity(limit)),
      driverVersion:
        readText(pick(record, "driver", "version")) ?? readText(pick(record, "driver", "driver_version")),
      raw,
    });
  }
  return { ok: true, value: { gpus, preamble: parsed.value.preamble } };
}

export interface AmdSmiListedGpu {
  index: number;
  pciBusId: string | null;
  uuid: string | null;
}

export function parseAmdSmiList(text: string): Parsed<AmdSmiListedGpu[]> {
  const parsed = parseAmdSmiRecords(text);
  if (!parsed.ok) return parsed;
  const gpus: AmdSmiListedGpu[] = [];
  for (const [position, record] of parsed.value.records.entries()) {
    const index = readGpuIndex(record);
    if (index === null) return { ok: false, error: `record ${position} has no "gpu" index` };
    gpus.push({ index, pciBusId: readText(record.bdf), uuid: readText(record.uuid) });
  }
  return { ok: true, value: gpus };
}

export interface AmdSmiMetricGpu {
  index: number;
  utilizationPercent: number | null;
  powerDrawW: number | null;
  temperatureC: number | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
}

export function parseAmdSmiMetric(text: string): Parsed<AmdSmiMetricGpu[]> {
  const parsed = parseAmdSmiRecords(text);
  if (!parsed.ok) return parsed;
  const gpus: AmdSmiMetricGpu[] = [];
  for (const [position, record] of parsed.value.records.entries()) {
    const index = readGpuIndex(record);
    if (index === null) return { ok: false, error: `record ${position} has no "gpu" index` };
    // Edge temperature is what the other vendors call the GPU temperature; MI300-class parts
    // report only the hotspot (junction), so that is the fallback.
    const edge = toCelsius(readQuantity(pick(record, "temperature", "edge")));
    const hotspot = toCelsius(readQuantity(pick(record, "temperature", "hotspot")));
    gpus.push({
      index,
      utilizationPercent: toPercent(readQuantity(pick(record, "usage", "gfx_activity"))),
      powerDrawW: toWatts(readQuantity(pick(record, "power", "socket_power"))),
      temperatureC: edge ?? hotspot,
      memoryTotalMiB: toMiB(readQuantity(pick(record, "mem_usage", "total_vram"))),
      memoryUsedMiB: toMiB(readQuantity(pick(record, "mem_usage", "used_vram"))),
      memoryFreeMiB: toMiB(readQuantity(pick(record, "mem_usage", "free_vram"))),
    });
  }
  return { ok: true, value: gpus };
}

export interface AmdSmiVersion {
  toolVersion: string | null;
  rocmVersion: string | null;
  /** amdgpu kernel driver version; null when amd-smi printed an error string instead. */
  driverVersion: string | null;
}

const VERSION = /^\d+(?:\.\d+)+(?:[-+.~][\w.+~-]*)?$/;

function readVersion(value: unknown): string | null {
  const text = readText(value);
  return text !== null && VERSION.test(text) ? text : null;
}

/** `amd-smi version --json`: a one-element array in ROCm 7 captures, an object in older ones. */
export function parseAmdSmiVersion(text: string): Parsed<AmdSmiVersion> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const { value } = json.value;
  const record = Array.isArray(value) ? value[0] : value;
  if (!isRecord(record)) return { ok: false, error: "expected a version object" };
  return {
    ok: true,
    value: {
      toolVersion: readVersion(record.version),
      rocmVersion: readVersion(record.rocm_version),
      driverVersion: readVersion(record.amdgpu_version),
    },
  };
}
