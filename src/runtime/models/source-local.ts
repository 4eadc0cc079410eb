import type { Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { chooseGgufFile } from "./choose-gguf-file.js";
import { isMissingPathError, toFsError } from "./fs-errors.js";
import { readConfigFile } from "./read-config-file.js";
import { readSafetensorsDir } from "./read-safetensors.js";
import type { SourceOutcome } from "./source-outcome.js";
import type { ModelSourceSettings } from "./source-settings.js";
import type { GgufSummary } from "./types.js";

/** Refs that can only mean a path: never looked up on the Hub. */
export function isPathLike(ref: string): boolean {
  return (
    ref === "." ||
    ref === ".." ||
    ref === "~" ||
    /^(\/|\.\/|\.\.\/|~\/)/.test(ref) ||
    /^[A-Za-z]:[\\/]/.test(ref) ||
    ref.startsWith(".\\") ||
    ref.startsWith("..\\")
  );
}

export function expandRefPath(ref: string, settings: Pick<ModelSourceSettings, "homeDir" | "cwd">): string {
  if (ref === "~") return settings.homeDir;
  if (ref.startsWith("~/")) return join(settings.homeDir, ref.slice(2));
  return isAbsolute(ref) ? resolve(ref) : resolve(settings.cwd, ref);
}

function noModelFiles(path: string): ServepilotError {
  return new ServepilotError("MODEL_NOT_FOUND", `${path} has no config.json and no .gguf file`, {
    hint: "Point at the directory that holds config.json (and the *.safetensors weights), or at a .gguf file.",
    details: { path },
  });
}

async function readGgufIn(
  dir: string,
  names: string[],
  preferred: string | undefined,
): Promise<GgufSummary | null> {
  const choice = chooseGgufFile(names, preferred);
  if (choice.kind === "none") return null;
  if (choice.kind === "no-match") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${dir}: no GGUF file matches ${JSON.stringify(preferred)}; available: ${choice.available.join(", ")}`,
      { details: { dir, available: choice.available } },
    );
  }
  return (await import("./read-gguf.js")).readLocalGguf(join(dir, choice.file));
}

async function readModelDir(
  dir: string,
  settings: ModelSourceSettings,
  strict: boolean,
): Promise<SourceOutcome> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw toFsError(error, dir, "list the directory");
  }
  const found = (
    message: string,
    parts: Omit<Extract<SourceOutcome, { outcome: "found" }>["model"], "id" | "origin">,
  ) =>
    ({
      outcome: "found",
      message,
      model: { id: dir, origin: { kind: "local", location: dir, revision: null }, ...parts },
    }) satisfies SourceOutcome;

  if (names.includes("config.json")) {
    const config = await readConfigFile(join(dir, "config.json"));
    const { summary } = await readSafetensorsDir(dir, config, "error");
    const gguf = summary ? null : await readGgufIn(dir, names, settings.ggufFile);
    const weights = summary
      ? `${summary.files.length} safetensors file(s)`
      : gguf
        ? "a GGUF file"
        : "no weights";
    return found(`${dir}: config.json and ${weights}`, { config, safetensors: summary, gguf });
  }
  const gguf = await readGgufIn(dir, names, settings.ggufFile);
  if (gguf) return found(`${dir}: GGUF file`, { config: null, safetensors: null, gguf });
  if (strict) throw noModelFiles(dir);
  return { outcome: "not-found", message: `${dir} exists but has no config.json or .gguf file` };
}

/**
 * Source 1: a directory or .gguf file on disk. A ref that looks like a path and does not exist is
 * an error (not a Hub lookup); a bare "owner/name" that happens to exist in the working directory
 * is read as a directory first, as transformers does.
 */
export async function resolveFromLocal(ref: string, settings: ModelSourceSettings): Promise<SourceOutcome> {
  const pathLike = isPathLike(ref);
  const path = expandRefPath(ref, settings);
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    if (!isMissingPathError(error)) throw toFsError(error, path, "read");
    if (pathLike) {
      throw new ServepilotError("MODEL_NOT_FOUND", `Local path ${ref} does not exist (${path})`, {
        hint: "Check the path, or give a Hugging Face repo id such as Qwen/Qwen3-8B.",
        details: { ref, path },
      });
    }
    return { outcome: "not-found", message: `no file or directory ${path}` };
  }
  if (info.isDirectory()) return readModelDir(path, settings, pathLike);
  if (/\.gguf$/i.test(path)) {
    const gguf = await (await import("./read-gguf.js")).readLocalGguf(path);
    return {
      outcome: "found",
      message: `${path}: GGUF file`,
      model: {
        id: path,
        origin: { kind: "local", location: path, revision: null },
        config: null,
        safetensors: null,
        gguf,
      },
    };
  }
  if (basename(path) === "config.json") return readModelDir(dirname(path), settings, true);
  if (!pathLike) return { outcome: "not-found", message: `${path} is a file, not a model directory` };
  throw new ServepilotError(
    "INVALID_ARGUMENT",
    `${path} is a file; expected a model directory (with config.json), a config.json or a .gguf file`,
    { details: { path } },
  );
}
