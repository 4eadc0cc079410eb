/**
 * Normalising the values GPU tools print. nvidia-smi writes "[N/A]", "[Not Supported]",
 * "[Requested functionality has been deprecated]" and similar bracketed notes where it has no value;
 * amd-smi and rocm-smi write "N/A". All of them become `null`, never 0.
 */

const NULL_WORDS = new Set(["", "n/a", "not supported", "err!"]);

/** True when a cell carries no value: "[N/A]", "N/A", "[Not Supported]", any "[...]" note, "ERR!". */
export function isSmiNull(value: string | null | undefined): boolean {
  if (value === null || value === undefined) return true;
  const trimmed = value.trim();
  if (trimmed.startsWith("[") && trimmed.endsWith("]")) return true;
  return NULL_WORDS.has(trimmed.toLowerCase());
}

/** The cell as a trimmed string, or null when it carries no value. */
export function readSmiString(value: string | null | undefined): string | null {
  if (isSmiNull(value)) return null;
  return (value as string).trim();
}

const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z%°]*)$/;

/**
 * A number, with an optional unit suffix as printed by `--format=csv` without `nounits`
 * ("81559 MiB", "700.00 W", "0 %", "35.0°C"). Returns null for empty / N/A cells and for anything
 * that is not a plain decimal (hex, several numbers, words).
 */
export function readSmiNumber(value: string | null | undefined): number | null {
  const text = readSmiString(value);
  if (text === null) return null;
  const match = NUMBER_WITH_UNIT.exec(text);
  if (match === null) return null;
  const number = Number(match[1]);
  return Number.isFinite(number) ? number : null;
}

/** A non-negative integer (indices, PIDs); null otherwise. */
export function readSmiInteger(value: string | null | undefined): number | null {
  const text = readSmiString(value);
  if (text === null || !/^\d+$/.test(text)) return null;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : null;
}

/** Rounds to two decimals, so a byte count converted to MiB does not carry float noise. */
export function roundTo2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Removes terminal colour / underline escapes (`nvidia-smi topo -m` underlines its header row). */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC byte is the point
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

/** The first non-empty line of a tool's output, trimmed, for error messages. */
export function firstLine(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed !== "") return trimmed;
  }
  return null;
}
