/**
 * amd-smi prints a measured value in one of several forms depending on its version and flags:
 * a bare number, a string with a unit ("196592 MB"), an object {"value": 196592, "unit": "MB"}, or
 * "N/A". These helpers read all of them and convert to the units DetectedGpu uses.
 */
import { isRecord } from "./extract-json.js";
import { isSmiNull } from "./smi-values.js";

export interface Quantity {
  value: number;
  unit: string | null;
}

const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z%°/]*)$/;

export function readQuantity(value: unknown): Quantity | null {
  if (typeof value === "number") return Number.isFinite(value) ? { value, unit: null } : null;
  if (typeof value === "string") {
    if (isSmiNull(value)) return null;
    const match = NUMBER_WITH_UNIT.exec(value.trim());
    if (match === null) return null;
    return { value: Number(match[1]), unit: match[2] === "" ? null : (match[2] ?? null) };
  }
  if (isRecord(value)) {
    const inner = readQuantity(value.value);
    if (inner === null) return null;
    const unit = typeof value.unit === "string" && value.unit !== "" ? value.unit : inner.unit;
    return { value: inner.value, unit };
  }
  return null;
}

/**
 * Memory in MiB. amd-smi labels its memory figures "MB" but computes them as bytes / 2^20
 * (amdsmi_cli/amdsmi_commands.py, `total_vram // (1024*1024)`), so "MB" is read as MiB.
 */
export function toMiB(quantity: Quantity | null): number | null {
  if (quantity === null) return null;
  switch (quantity.unit) {
    case null:
    case "MB":
    case "MiB":
      return quantity.value;
    case "GB":
    case "GiB":
      return quantity.value * 1024;
    case "KB":
    case "KiB":
      return quantity.value / 1024;
    case "B":
      return quantity.value / (1024 * 1024);
    default:
      return null;
  }
}

export function toWatts(quantity: Quantity | null): number | null {
  if (quantity === null) return null;
  if (quantity.unit === null || quantity.unit === "W") return quantity.value;
  if (quantity.unit === "mW") return quantity.value / 1000;
  if (quantity.unit === "uW") return quantity.value / 1_000_000;
  return null;
}

export function toCelsius(quantity: Quantity | null): number | null {
  if (quantity === null) return null;
  return quantity.unit === null || quantity.unit === "C" || quantity.unit === "°C" ? quantity.value : null;
}

export function toPercent(quantity: Quantity | null): number | null {
  if (quantity === null) return null;
  return quantity.unit === null || quantity.unit === "%" ? quantity.value : null;
}

/** A string field, or null for a missing / "N/A" / non-string value. */
export function readText(value: unknown): string | null {
  if (typeof value !== "string" || isSmiNull(value)) return null;
  return value.trim();
}

/** Walks `path` through nested objects; undefined when any step is missing. */
export function pick(value: unknown, ...path: string[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}
