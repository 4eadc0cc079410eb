/**
 * Pure parser for `rocm-smi --showproductname --showmeminfo vram --showuse … --json`:
 *
 *   {"card0": {"Card Series": "Radeon RX 7900 XT", "VRAM Total Memory (B)": "21458059264", …},
 *    "system": {"Driver version": "6.3.6"}}
 *
 * Key spellings differ across ROCm versions ("Card series" in 6.0, "Card Series" later, "Device
 * Name" in 6.2+); every value is a string, "N/A" when unknown. Memory is in bytes.
 */
import { readQuantity, readText, toCelsius, toPercent, toWatts } from "./amd-quantity.js";
import { extractJson, isRecord } from "./extract-json.js";
import type { Parsed } from "./parsed.js";
import { roundTo2 } from "./smi-values.js";

export interface RocmSmiGpu {
  /** N of the "cardN" key. */
  index: number;
  /** Product name, or null when rocm-smi printed only PCI ids (ROCm 4.3 prints "0x1002"). */
  name: string | null;
  uniqueId: string | null;
  gfxTarget: string | null;
  pciBusId: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  raw: Record<string, string>;
}

export interface RocmSmiReport {
  gpus: RocmSmiGpu[];
  driverVersion: string | null;
  preamble: string | null;
}

const NAME_KEYS = ["Card Series", "Card series", "Device Name", "Card Model", "Card model"];
const HEX_ID = /^0x[0-9a-f]+$/i;

function field(card: Record<string, unknown>, ...keys: string[]): string | null {
  for (const key of keys) {
    const text = readText(card[key]);
    if (text !== null) return text;
  }
  return null;
}

/**
 * rocm-smi's "GFX Version" concatenates the decimal major, minor and stepping of the KFD target
 * version, so gfx90a (9, 0, 10) is printed "gfx9010" (rocm_smi_lib issue #159). The LLVM target
 * writes the stepping as one hex digit. Majors 10-12 take two digits, older ones one.
 */
export function normaliseGfxVersion(printed: string | null): string | null {
  if (printed === null) return null;
  const text = printed.trim().toLowerCase();
  if (/^gfx[0-9]*[a-f][0-9a-f]*$/.test(text)) return text;
  const digits = /^gfx(\d+)$/.exec(text)?.[1];
  if (digits === undefined || digits.length < 3) return null;
  const majorDigits = digits.startsWith("1") && digits.length >= 4 ? 2 : 1;
  const major = digits.slice(0, majorDigits);
  const minor = digits.slice(majorDigits, majorDigits + 1);
  const stepping = Number(digits.slice(majorDigits + 1));
  if (!Number.isInteger(stepping) || stepping > 15 || minor === "") return null;
  return `gfx${major}${minor}${stepping.toString(16)}`;
}

function bytesToMiB(text: string | null): number | null {
  if (text === null || !/^\d+$/.test(text)) return null;
  return roundTo2(Number(text) / (1024 * 1024));
}

function readCard(index: number, card: Record<string, unknown>): RocmSmiGpu {
  const names = NAME_KEYS.map((key) => readText(card[key])).filter((name): name is string => name !== null);
  const gfxPrinted = field(card, "GFX Version");
  const raw: Record<string, string> = {};
  for (const key of [...NAME_KEYS, "GFX Version", "VRAM Total Memory (B)", "VRAM Total Used Memory (B)"]) {
    const value = card[key];
    if (typeof value === "string") raw[key] = value;
  }
  return {
    index,
    name: names.find((name) => !HEX_ID.test(name)) ?? null,
    uniqueId: field(card, "Unique ID"),
    gfxTarget: normaliseGfxVersion(gfxPrinted),
    pciBusId: field(card, "PCI Bus"),
    memoryTotalMiB: bytesToMiB(field(card, "VRAM Total Memory (B)")),
    memoryUsedMiB: bytesToMiB(field(card, "VRAM Total Used Memory (B)")),
    utilizationPercent: toPercent(readQuantity(field(card, "GPU use (%)"))),
    temperatureC: toCelsius(
      readQuantity(field(card, "Temperature (Sensor edge) (C)", "Temperature (Sensor junction) (C)")),
    ),
    powerDrawW: toWatts(
      readQuantity(
        field(card, "Average Graphics Package Power (W)", "Current Socket Graphics Package Power (W)"),
      ),
    ),
    powerLimitW: toWatts(readQuantity(field(card, "Max Graphics Package Power (W)"))),
    raw,
  };
}

export function parseRocmSmi(text: string): Parsed<RocmSmiReport> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const { value, preamble } = json.value;
  if (!isRecord(value)) return { ok: false, error: 'expected a JSON object keyed by "card0", "card1", …' };
  const gpus: RocmSmiGpu[] = [];
  for (const [key, card] of Object.entries(value)) {
    const match = /^card(\d+)$/.exec(key);
    if (match === null || !isRecord(card)) continue;
    gpus.push(readCard(Number(match[1]), card));
  }
  gpus.sort((a, b) => a.index - b.index);
  const system = value.system;
  const driverVersion = isRecord(system) ? readText(system["Driver version"]) : null;
  return { ok: true, value: { gpus, driverVersion, preamble } };
}
