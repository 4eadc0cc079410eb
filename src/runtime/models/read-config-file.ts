import { readFile, stat } from "node:fs/promises";
import { ServepilotError } from "../../core/errors.js";
import { toFsError } from "./fs-errors.js";
import { locateJsonError } from "./json-error-position.js";

/** Far above any real config.json (the largest are a few hundred KiB); refuses a mislabeled blob. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Parses a JSON object file (config.json, a safetensors index); `label` names the file or URL in errors. */
export function parseConfigText(text: string, label: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = locateJsonError(text);
    const where = position
      ? ` at line ${position.line}, column ${position.column} (offset ${position.offset} of ${text.length})`
      : "";
    const truncated =
      position !== null && position.offset >= text.length ? " (the file ends too early: truncated?)" : "";
    const reason = error instanceof Error ? error.message : String(error);
    throw new ServepilotError(
      "INVALID_MODEL_CONFIG",
      `${label}: invalid JSON${where}${truncated}: ${reason}`,
      {
        hint: "Download the file again, or fix the JSON by hand.",
        details: { file: label, position },
        cause: error,
      },
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const got = Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed;
    throw new ServepilotError("INVALID_MODEL_CONFIG", `${label}: must be a JSON object, got ${got}`, {
      details: { file: label },
    });
  }
  return parsed as Record<string, unknown>;
}

/** Reads and parses a config.json from disk. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ServepilotError(
        "INVALID_MODEL_CONFIG",
        `${path}: ${info.size} bytes is too large for a config.json (at most ${MAX_CONFIG_BYTES})`,
        { details: { file: path, size: info.size } },
      );
    }
    text = await readFile(path, "utf8");
  } catch (error) {
    throw toFsError(error, path, "read");
  }
  return parseConfigText(text, path);
}
