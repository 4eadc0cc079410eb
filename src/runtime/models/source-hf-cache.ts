import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { chooseGgufFile } from "./choose-gguf-file.js";
import { isMissingPathError, toFsError } from "./fs-errors.js";
import { readConfigFile } from "./read-config-file.js";
import { readSafetensorsDir } from "./read-safetensors.js";
import type { SourceOutcome } from "./source-outcome.js";
import type { ModelSourceSettings } from "./source-settings.js";

const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** The cache folder of a model repo: models--{org}--{name} (huggingface_hub's repo_folder_name). */
export function hfCacheFolderName(repo: string): string {
  return `models--${repo.split("/").join("--")}`;
}

async function listOrNull(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissingPathError(error)) return null;
    throw toFsError(error, dir, "list the directory");
  }
}

async function readCommit(repoDir: string, revision: string): Promise<string | null> {
  if (COMMIT_HASH.test(revision)) return revision;
  const refPath = join(repoDir, "refs", revision);
  try {
    return (await readFile(refPath, "utf8")).trim() || null;
  } catch (error) {
    if (isMissingPathError(error)) return null;
    throw toFsError(error, refPath, "read");
  }
}

async function readSnapshot(repo: string, settings: ModelSourceSettings): Promise<SourceOutcome> {
  const repoDir = join(settings.cacheDir, hfCacheFolderName(repo));
  if ((await listOrNull(repoDir)) === null) {
    return { outcome: "not-found", message: `no ${hfCacheFolderName(repo)} in ${settings.cacheDir}` };
  }
  const commit = await readCommit(repoDir, settings.revision);
  if (commit === null) {
    return { outcome: "not-found", message: `${repoDir} has no refs/${settings.revision}` };
  }
  const snapshot = join(repoDir, "snapshots", commit);
  const names = await listOrNull(snapshot);
  if (names === null) return { outcome: "not-found", message: `${repoDir} has no snapshot ${commit}` };

  const origin = { kind: "hf-cache" as const, location: snapshot, revision: commit };
  if (names.includes("config.json")) {
    const config = await readConfigFile(join(snapshot, "config.json"));
    const { summary, note } = await readSafetensorsDir(snapshot, config, "skip");
    const weights = summary
      ? `${summary.files.length} safetensors file(s)`
      : (note ?? "no safetensors weights");
    return {
      outcome: "found",
      message: `${snapshot}: config.json, ${weights}`,
      model: { id: repo, origin, config, safetensors: summary, gguf: null },
    };
  }
  const choice = chooseGgufFile(names, settings.ggufFile);
  if (choice.kind === "chosen") {
    const gguf = await (await import("./read-gguf.js")).readLocalGguf(join(snapshot, choice.file));
    return {
      outcome: "found",
      message: `${snapshot}: ${choice.file}`,
      model: { id: repo, origin, config: null, safetensors: null, gguf },
    };
  }
  return { outcome: "not-found", message: `${snapshot} has no config.json or GGUF file` };
}

/**
 * Source 2: the Hugging Face cache shared with transformers / vLLM / huggingface-cli
 * ($HF_HUB_CACHE/models--org--name/{refs,snapshots,blobs}). refs/{revision} names the commit
 * whose snapshot folder holds symlinks to the downloaded files.
 */
export async function resolveFromHfCache(
  repo: string,
  settings: ModelSourceSettings,
): Promise<SourceOutcome> {
  try {
    return await readSnapshot(repo, settings);
  } catch (error) {
    // An unreadable cache is reported and the next source tried; a damaged file is raised.
    if (error instanceof ServepilotError && error.code === "PERMISSION_DENIED") {
      return { outcome: "error", message: error.message, error };
    }
    throw error;
  }
}
