import { access, open, readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { isMissingPathError, toFsError } from "./fs-errors.js";
import { parseConfigText } from "./read-config-file.js";
import { decodeHeaderLength, parseSafetensorsHeader } from "./safetensors-header.js";
import { type SafetensorsShard, summarizeSafetensors } from "./summarize-safetensors.js";
import type { SafetensorsSummary, SafetensorsTensorInfo } from "./types.js";

export const SAFETENSORS_FILE = "model.safetensors";
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";

/** Reads one file's header: 8 bytes, then the JSON header; never the tensor data. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsTensorInfo[]> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    const { size } = await handle.stat();
    const prefix = new Uint8Array(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    const headerLength = decodeHeaderLength(prefix.subarray(0, bytesRead), size, path);
    const headerBytes = new Uint8Array(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    return parseSafetensorsHeader(headerBytes, size - 8 - headerLength, path);
  } catch (error) {
    throw toFsError(error, path, "read");
  } finally {
    await handle?.close();
  }
}

/** A shard name from weight_map must stay inside the model directory. */
function isSafeShardName(name: string): boolean {
  return (
    name.length > 0 &&
    !isAbsolute(name) &&
    !name.includes("\\") &&
    !name.split("/").some((segment) => segment === ".." || segment === "." || segment === "")
  );
}

/** The shard files an index lists, in order of first appearance. */
export function shardFilesOfIndex(index: Record<string, unknown>, label: string): string[] {
  const weightMap = index.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new ServepilotError(
      "INVALID_MODEL_CONFIG",
      `${label}: weight_map must be an object of tensor -> file`,
      {
        details: { file: label },
      },
    );
  }
  const files = new Set<string>();
  for (const [tensor, file] of Object.entries(weightMap)) {
    if (typeof file !== "string" || !isSafeShardName(file)) {
      throw new ServepilotError(
        "INVALID_MODEL_CONFIG",
        `${label}: weight_map[${JSON.stringify(tensor)}] must be a file name inside the model directory, got ${JSON.stringify(file)}`,
        { details: { file: label, tensor } },
      );
    }
    files.add(file);
  }
  return [...files];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if (isMissingPathError(error)) return false;
    throw toFsError(error, path, "read");
  }
}

export interface SafetensorsDirResult {
  summary: SafetensorsSummary | null;
  /** Why summary is null when weights were expected (an incomplete HF cache download). */
  note: string | null;
}

/**
 * Reads the safetensors headers of a model directory: model.safetensors, or the index and its
 * shards. `missingShards: "error"` refuses an index whose shards are absent (a local directory);
 * "skip" reports them in `note` (an HF cache snapshot where only some files were downloaded).
 */
export async function readSafetensorsDir(
  dir: string,
  config: Record<string, unknown> | null,
  missingShards: "error" | "skip",
): Promise<SafetensorsDirResult> {
  const single = join(dir, SAFETENSORS_FILE);
  if (await exists(single)) {
    const tensors = await readSafetensorsFile(single);
    return { summary: await summarizeSafetensors([{ file: SAFETENSORS_FILE, tensors }], config), note: null };
  }
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  if (!(await exists(indexPath))) return { summary: null, note: null };
  let indexText: string;
  try {
    indexText = await readFile(indexPath, "utf8");
  } catch (error) {
    throw toFsError(error, indexPath, "read");
  }
  const files = shardFilesOfIndex(parseConfigText(indexText, indexPath), indexPath);
  const present = await Promise.all(files.map((file) => exists(join(dir, file))));
  const missing = files.filter((_, i) => !present[i]);
  if (missing.length > 0) {
    const problem = `${missing.length} of ${files.length} shards listed in ${SAFETENSORS_INDEX_FILE} are missing (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""})`;
    if (missingShards === "skip") return { summary: null, note: problem };
    throw new ServepilotError("INVALID_MODEL_CONFIG", `${dir}: ${problem}`, {
      hint: "Finish the download, or remove the index if the model is not sharded.",
      details: { dir, missing },
    });
  }
  const shards: SafetensorsShard[] = [];
  for (const file of files) shards.push({ file, tensors: await readSafetensorsFile(join(dir, file)) });
  return { summary: await summarizeSafetensors(shards, config), note: null };
}
