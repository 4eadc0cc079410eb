/**
 * Removing things from the Hugging Face cache. Deciding (`planPrune`, `planRemove`) is separate
 * from deleting (`applyCacheDeletion`) so the CLI can show the plan and ask before anything goes.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { hfCacheFolderName } from "../models/source-hf-cache.js";
import { isMissing, toCacheError } from "./cache-fs-error.js";
import { type CacheScan, readSnapshotBlobs } from "./scan-cache.js";

export interface DeletionItem {
  repo: string;
  kind: "repo" | "revision" | "blob" | "incomplete";
  path: string;
  sizeBytes: number;
}

export interface DeletionPlan {
  items: DeletionItem[];
  /** Bytes freed: blobs and incomplete files (snapshots only hold links). */
  freedBytes: number;
}

function totalOf(items: readonly DeletionItem[]): number {
  return items.reduce((sum, item) => sum + item.sizeBytes, 0);
}

/** `cache remove <repo>`: the whole models--org--name folder. */
export function planRemove(scan: CacheScan, repo: string): DeletionPlan {
  const found = scan.repos.find((r) => r.repo === repo && basename(r.path) === hfCacheFolderName(repo));
  if (!found) {
    throw new ServepilotError("INVALID_ARGUMENT", `${repo} is not in the cache (${scan.cacheDir})`, {
      hint: "Run `servepilot cache list` to see the cached repos.",
      details: { repo, cacheDir: scan.cacheDir, cached: scan.repos.map((r) => r.repo) },
    });
  }
  const items: DeletionItem[] = [{ repo, kind: "repo", path: found.path, sizeBytes: found.sizeBytes }];
  return { items, freedBytes: totalOf(items) };
}

/**
 * `cache prune`: snapshots no ref points at (detached revisions), the blobs only they used, blobs
 * no snapshot uses, and `.incomplete` blobs left by interrupted downloads.
 */
export async function planPrune(scan: CacheScan): Promise<DeletionPlan> {
  const items: DeletionItem[] = [];
  for (const repo of scan.repos) {
    const referenced = new Set(Object.values(repo.refs));
    const snapshots = await readSnapshotBlobs(repo.path);
    const kept = new Set<string>();
    for (const [commit, files] of snapshots) {
      if (referenced.has(commit)) for (const file of files) kept.add(basename(file.target));
    }
    for (const revision of repo.revisions) {
      if (!referenced.has(revision.commit)) {
        items.push({ repo: repo.repo, kind: "revision", path: revision.path, sizeBytes: 0 });
      }
    }
    const blobsDir = join(repo.path, "blobs");
    let names: string[] = [];
    try {
      names = await readdir(blobsDir);
    } catch (error) {
      if (!isMissing(error)) throw toCacheError(error, blobsDir, "list");
    }
    for (const name of names) {
      if (kept.has(name)) continue;
      const path = join(blobsDir, name);
      const size = await stat(path).then(
        (s) => s.size,
        (error: unknown) => {
          throw toCacheError(error, path, "read");
        },
      );
      items.push({
        repo: repo.repo,
        kind: name.endsWith(".incomplete") ? "incomplete" : "blob",
        path,
        sizeBytes: size,
      });
    }
  }
  return { items, freedBytes: totalOf(items) };
}

export async function applyCacheDeletion(plan: DeletionPlan): Promise<void> {
  for (const item of plan.items) {
    try {
      await rm(item.path, { recursive: true, force: true });
    } catch (error) {
      throw toCacheError(error, item.path, "delete");
    }
  }
}
