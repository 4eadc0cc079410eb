/**
 * Text helpers shared by the engine log parsers: clean a raw log line (terminal colours, progress
 * bars redrawn with carriage returns) and read the numbers engines print ("56,736", "-1.30").
 */

// CSI sequences such as "\u001b[0;36m" (vLLM colours its prefixes when stdout is a terminal).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC control character is the point
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The text a person would see for this line: no colour codes, last redraw of a progress bar. */
export function cleanLogLine(line: string): string {
  const withoutAnsi = line.replace(ANSI_ESCAPE, "");
  const segments = withoutAnsi.split("\r").filter((segment) => segment.trim() !== "");
  return (segments.at(-1) ?? "").trimEnd();
}

/** A number as engines print it: digits with optional thousands commas, sign and decimals. */
export function readLogNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = Number(text.replaceAll(",", ""));
  return Number.isFinite(value) ? value : null;
}

/**
 * The last "NN%" of a tqdm progress bar. Captured logs often hold many redraws on one line
 * ("... 45%|... 47%|..."), and the last one is the current state.
 */
export function readLastPercent(text: string): number | null {
  let last: number | null = null;
  for (const match of text.matchAll(/(\d{1,3})%/g)) {
    const value = Number(match[1]);
    if (value <= 100) last = value;
  }
  return last;
}

/** Sizes printed in MiB/GiB/GB/MB, converted to GiB (engines print 2^30-based sizes as "GB"). */
export function toGiB(value: number, unit: string): number {
  return unit.toUpperCase().startsWith("M") ? value / 1024 : value;
}

/**
 * The message of a log line without the engine's prefix: vLLM's "(EngineCore_DP0 pid=1) ERROR
 * 11-22 13:51:11 [core.py:708] ", SGLang's "[2025-01-01 12:00:00 TP0] ", uvicorn's "ERROR:    ".
 */
export function logLineMessage(line: string): string {
  return cleanLogLine(line)
    .replace(/^\([\w-]+ pid=\d+\)\s+/, "")
    .replace(
      /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?\s+\[[^\]]*\]\s+/,
      "",
    )
    .replace(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:[^\]]*)\]\s+/, "")
    .replace(/^(?:INFO|WARNING|ERROR|CRITICAL):\s+/, "")
    .trim();
}
