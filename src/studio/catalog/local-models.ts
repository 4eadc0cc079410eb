/**
 * Models already on the studio host: repos in the Hugging Face cache (HF_HOME / HF_HUB_CACHE from the
 * studio's environment, read by the runtime's cache scanner) and model directories (a directory with
 * config.json, or with .gguf files) under the configured local directories (`<dataDir>/models/` by
 * default). Only directories are listed, never file contents.
 */
import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { scanCache } from "../../runtime/cache/scan-cache.js";
import { resolveSourceSettings } from "../../runtime/models/source-settings.js";
import type { StudioContext } from "../context.js";
import type { FieldError } from "../http/errors.js";

export interface CachedModel {
  repo: string;
  path: string;
  sizeBytes: number;
  lastModified: string | null;
  refs: Record<string, string>;
  incompleteBytes: number;
  revisions: Array<{ commit: string; refs: string[]; files: number; sizeBytes: number; path: string }>;
  /** What the newest snapshot (main, else any) holds at its top level. */
  hasConfig: boolean;
  ggufFiles: string[];
}

export interface LocalModelDir {
  path: string;
  name: string;
  format: "safetensors" | "gguf" | "config";
  hasConfig: boolean;
  ggufFiles: string[];
  /** Bytes of the directory's top-level files. */
  sizeBytes: number;
}

interface TopLevel {
  hasConfig: boolean;
  ggufFiles: string[];
  safetensors: boolean;
  sizeBytes: number;
}

async function topLevel(dir: string): Promise<TopLevel | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  let sizeBytes = 0;
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => null); // a dangling link counts as nothing
    if (info?.isFile()) sizeBytes += info.size;
  }
  return {
    hasConfig: names.includes("config.json"),
    ggufFiles: names.filter((n) => n.toLowerCase().endsWith(".gguf")).sort(),
    safetensors: names.some((n) => n.endsWith(".safetensors")),
    sizeBytes,
  };
}

/** The HF cache directory the runtime (and vLLM) use with the studio's environment. */
export async function hfCacheDir(ctx: StudioContext): Promise<string> {
  const settings = await resolveSourceSettings({
    env: ctx.env,
    ...(ctx.env.HOME ? { homeDir: ctx.env.HOME } : {}),
  });
  return settings.cacheDir;
}

export async function cachedModels(
  ctx: StudioContext,
): Promise<{ cacheDir: string; models: CachedModel[]; warnings: string[] }> {
  const cacheDir = await hfCacheDir(ctx);
  const scan = await scanCache(cacheDir);
  const models: CachedModel[] = [];
  for (const repo of scan.repos) {
    if (repo.kind !== "model") continue;
    const newest =
      repo.revisions.find((r) => r.refs.includes("main")) ?? repo.revisions[repo.revisions.length - 1];
    const files = newest ? await topLevel(newest.path) : null;
    models.push({
      repo: repo.repo,
      path: repo.path,
      sizeBytes: repo.sizeBytes,
      lastModified: repo.lastModified,
      refs: repo.refs,
      incompleteBytes: repo.incompleteBytes,
      revisions: repo.revisions,
      hasConfig: files?.hasConfig ?? false,
      ggufFiles: files?.ggufFiles ?? [],
    });
  }
  return { cacheDir, models, warnings: scan.warnings };
}

function asModelDir(path: string, name: string, files: TopLevel): LocalModelDir | null {
  if (!files.hasConfig && files.ggufFiles.length === 0) return null;
  const format =
    files.ggufFiles.length > 0 && !files.safetensors ? "gguf" : files.safetensors ? "safetensors" : "config";
  return {
    path,
    name,
    format,
    hasConfig: files.hasConfig,
    ggufFiles: files.ggufFiles,
    sizeBytes: files.sizeBytes,
  };
}

/** Most local directories one request may name. */
export const MAX_LOCAL_DIRS = 16;

/** Field errors for the `dirs` query: each must be an absolute path to an existing directory. */
export async function checkLocalDirs(dirs: readonly string[]): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  if (dirs.length > MAX_LOCAL_DIRS) {
    return [
      { field: "querystring.dirs", message: `at most ${MAX_LOCAL_DIRS} directories, got ${dirs.length}` },
    ];
  }
  for (const [i, dir] of dirs.entries()) {
    const field = `querystring.dirs.${i}`;
    if (!isAbsolute(dir) || dir.includes("\0")) {
      errors.push({ field, message: `expected an absolute directory path, got ${JSON.stringify(dir)}` });
      continue;
    }
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) errors.push({ field, message: `${dir} is not a directory` });
  }
  return errors;
}

/** Model directories in each of `dirs`: the directory itself when it is a model, else its sub-directories that are. */
export async function localModelDirs(dirs: readonly string[]): Promise<LocalModelDir[]> {
  const found: LocalModelDir[] = [];
  for (const dir of dirs) {
    const own = await topLevel(dir);
    if (own === null) continue; // the default <dataDir>/models may not exist
    const self = asModelDir(dir, dir.split("/").pop() ?? dir, own);
    if (self) {
      found.push(self);
      continue;
    }
    const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.name.startsWith(".")) continue;
      const path = join(dir, child.name);
      const info = await stat(path).catch(() => null);
      if (!info?.isDirectory()) continue;
      const files = await topLevel(path);
      const model = files ? asModelDir(path, child.name, files) : null;
      if (model) found.push(model);
    }
  }
  return found;
}
