import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type ListFileEntry, listFiles, modelInfo } from "@huggingface/hub";
import { ServepilotError } from "../../core/errors.js";
import { hfCacheFolderName } from "../models/source-hf-cache.js";
import { isMissing, toCacheError } from "./cache-fs-error.js";
import { createFileFilter, type FileFilter } from "./match-glob.js";

export interface PlannedFile {
  /** Path inside the repo. */
  path: string;
  size: number;
  /** Blob name: the LFS sha256 for LFS files, else the git blob sha1 (what huggingface_hub uses). */
  etag: string;
  /** Already complete in blobs/. */
  cached: boolean;
  /** Bytes of a `.incomplete` blob a download can resume from. */
  partialBytes: number;
}

export interface DownloadPlan {
  repo: string;
  revision: string;
  commit: string;
  repoDir: string;
  files: PlannedFile[];
  totalBytes: number;
  /** Bytes still to fetch. */
  neededBytes: number;
}

export interface PlanContext {
  hubUrl: string;
  fetch: typeof fetch;
  cacheDir: string;
}

function etagOf(entry: ListFileEntry): string {
  return entry.lfs?.oid ?? entry.oid ?? "";
}

async function sizeOrNull(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isMissing(error)) return null;
    throw toCacheError(error, path, "read");
  }
}

/** Asks the Hub for the revision's commit and file list, and compares it with the cache. */
export async function planDownload(
  repo: string,
  revision: string,
  filter: FileFilter,
  ctx: PlanContext,
): Promise<DownloadPlan> {
  const common = { hubUrl: ctx.hubUrl, fetch: ctx.fetch };
  const info = await modelInfo({ name: repo, revision, additionalFields: ["sha"], ...common });
  const commit = typeof info.sha === "string" && info.sha ? info.sha : revision;
  const keep = createFileFilter(filter);
  const entries: ListFileEntry[] = [];
  let listed = 0;
  for await (const entry of listFiles({ repo, revision: commit, recursive: true, ...common })) {
    if (entry.type !== "file") continue;
    listed++;
    if (keep(entry.path)) entries.push(entry);
  }
  if (entries.length === 0) {
    const patterns = [
      ...filter.include.map((p) => `--include ${p}`),
      ...filter.exclude.map((p) => `--exclude ${p}`),
    ];
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      listed === 0
        ? `${repo}@${revision} has no files`
        : `no file of ${repo}@${revision} matches ${patterns.join(" ")} (${listed} files listed)`,
      {
        hint: "Patterns are globs matched against the whole path, e.g. --include '*Q4_K_M.gguf'.",
        details: { repo, revision, filter },
      },
    );
  }
  const repoDir = join(ctx.cacheDir, hfCacheFolderName(repo));
  const files: PlannedFile[] = [];
  for (const entry of entries) {
    const etag = etagOf(entry);
    if (!/^[0-9a-f]{40,64}$/.test(etag)) {
      throw new ServepilotError(
        "NETWORK_ERROR",
        `${ctx.hubUrl}/${repo}: the file list gives no hash for ${entry.path}`,
        {
          details: { repo, revision, path: entry.path },
        },
      );
    }
    const blob = join(repoDir, "blobs", etag);
    const cached = (await sizeOrNull(blob)) === entry.size;
    const partial = cached ? null : await sizeOrNull(`${blob}.incomplete`);
    const partialBytes = partial !== null && partial <= entry.size ? partial : 0;
    files.push({ path: entry.path, size: entry.size, etag, cached, partialBytes });
  }
  return {
    repo,
    revision,
    commit,
    repoDir,
    files,
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
    neededBytes: files.reduce((sum, f) => sum + (f.cached ? 0 : f.size - f.partialBytes), 0),
  };
}
