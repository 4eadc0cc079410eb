/**
 * Reads the JSON document in a tool's output. amd-smi prints warnings before its JSON when it lacks
 * permissions ("Permission needed to access required GPU device node(s): …"), and rocm-smi prints
 * "WARNING: …" lines; the document starts at the first line that opens an object or an array.
 */
import type { Parsed } from "./parsed.js";
import { firstLine } from "./smi-values.js";

export interface ExtractedJson {
  value: unknown;
  /** Text printed before the JSON document (trimmed), or null when there was none. */
  preamble: string | null;
}

export function extractJson(text: string): Parsed<ExtractedJson> {
  const lines = text.split(/\r?\n/);
  const startLine = lines.findIndex((line) => /^\s*[[{]/.test(line));
  if (startLine < 0) {
    const said = firstLine(text);
    return { ok: false, error: said === null ? "empty output" : `no JSON in the output: "${said}"` };
  }
  const body = lines.slice(startLine).join("\n");
  const preambleText = lines.slice(0, startLine).join("\n").trim();
  const preamble = preambleText === "" ? null : preambleText;
  try {
    return { ok: true, value: { value: JSON.parse(body) as unknown, preamble } };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `output is not valid JSON (${detail})` };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
