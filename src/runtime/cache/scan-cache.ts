/**
 * Reads the Hugging Face hub cache (the layout huggingface_hub, vLLM and huggingface-cli share):
 *
 *   {cacheDir}/models--{org}--{name}/blobs/{etag}            file contents, named by git sha1 or LFS sha256
 *                                    blobs/{etag}.incomplete  a download in progress or abandoned
 *                                    refs/{branch or tag}     the commit hash the ref pointed to
 *                                    snapshots/{commit}/...   relative symlinks into blobs/
 *
 * Source: https://huggingface.co/docs/huggingface_hub/guides/manage-cache
 * Written here rather than taken from @huggingface/hub's scanCacheDir, which skips files in
 * snapshot sub-folders and refs under refs/pr/, and does not report incomplete or orphan blobs.
 */
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { isMissing, toCacheError } from "./cache-fs-error.js";

export type CachedRepoKind = "model" | "dataset" | "space";

export interface CachedRevision {
  commit: string;
  /** Refs (branches, tags, pr/N) pointing at this commit; empty for a detached revision. */
  refs: string[];
  files: number;
  /** Bytes of the distinct blobs this snapshot uses. */
  sizeBytes: number;
  path: string;
}

export interface CachedRepo {
  /** "org/name". */
  repo: string;
  kind: CachedRepoKind;
  path: string;
  /** Bytes of every file in blobs/, incomplete ones included: what the repo takes on disk. */
  sizeBytes: number;
  revisions: CachedRevision[];
  /** Ref name -> commit. */
  refs: Record<string, string>;
  /** Newest modification time of a blob (ISO 8601), or null without blobs. */
  lastModified: string | null;
  /** Blob names (in blobs/) ending in `.incomplete`. */
  incompleteBlobs: string[];
  incompleteBytes: number;
}

export interface CacheScan {
  cacheDir: string;
  /** False when the cache directory does not exist yet (nothing downloaded). */
  exists: boolean;
  repos: CachedRepo[];
  totalBytes: number;
  /** Folders that look like cache entries but could not be read as one. */
  warnings: string[];
}

const KINDS: Record<string, CachedRepoKind> = { models: "model", datasets: "dataset", spaces: "space" };

async function listDir(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return null;
    throw toCacheError(error, dir, "list");
  }
}

async function readRefs(refsDir: string, prefix = ""): Promise<Record<string, string>> {
  const refs: Record<string, string> = {};
  for (const name of (await listDir(refsDir)) ?? []) {
    const path = join(refsDir, name);
    const info = await lstat(path).catch((error: unknown) => {
      throw toCacheError(error, path, "read");
    });
    if (info.isDirectory()) {
      Object.assign(refs, await readRefs(path, `${prefix}${name}/`));
    } else {
      const commit = (
        await readFile(path, "utf8").catch((error: unknown) => {
          throw toCacheError(error, path, "read");
        })
      ).trim();
      if (commit) refs[`${prefix}${name}`] = commit;
    }
  }
  return refs;
}

/** Every file of a snapshot (recursively) with the blob it resolves to. */
async function walkSnapshot(dir: string, out: Array<{ path: string; target: string }>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw toCacheError(error, dir, "list");
  });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walkSnapshot(path, out);
    else if (entry.isSymbolicLink()) out.push({ path, target: resolve(dirname(path), await readlink(path)) });
    else out.push({ path, target: path });
  }
}

/** Blob names referenced by the snapshots of a repo, by commit. */
export async function readSnapshotBlobs(
  repoDir: string,
): Promise<Map<string, Array<{ path: string; target: string }>>> {
  const snapshots = new Map<string, Array<{ path: string; target: string }>>();
  const snapshotsDir = join(repoDir, "snapshots");
  for (const commit of (await listDir(snapshotsDir)) ?? []) {
    const files: Array<{ path: string; target: string }> = [];
    await walkSnapshot(join(snapshotsDir, commit), files);
    snapshots.set(commit, files);
  }
  return snapshots;
}

async function sizeOf(path: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const info = await stat(path);
    return { size: info.size, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (isMissing(error)) return null; // a dangling snapshot link: the blob was deleted
    throw toCacheError(error, path, "read");
  }
}

export async function scanCachedRepo(repoDir: string): Promise<CachedRepo | null> {
  const [kindFolder, ...nameParts] = basename(repoDir).split("--");
  const kind = KINDS[kindFolder ?? ""];
  if (!kind || nameParts.length === 0) return null;
  const refs = await readRefs(join(repoDir, "refs"));
  const blobsDir = join(repoDir, "blobs");
  let sizeBytes = 0;
  let newest: number | null = null;
  const incompleteBlobs: string[] = [];
  let incompleteBytes = 0;
  for (const name of (await listDir(blobsDir)) ?? []) {
    const info = await sizeOf(join(blobsDir, name));
    if (!info) continue;
    sizeBytes += info.size;
    newest = Math.max(newest ?? 0, info.mtimeMs);
    if (name.endsWith(".incomplete")) {
      incompleteBlobs.push(name);
      incompleteBytes += info.size;
    }
  }
  const revisions: CachedRevision[] = [];
  for (const [commit, files] of await readSnapshotBlobs(repoDir)) {
    const blobs = new Map<string, number>();
    for (const file of files) {
      const info = await sizeOf(file.target);
      if (info) blobs.set(file.target, info.size);
      if (info && !file.target.startsWith(blobsDir + sep)) sizeBytes += info.size; // a copied, not linked, file
    }
    revisions.push({
      commit,
      refs: Object.keys(refs).filter((ref) => refs[ref] === commit),
      files: files.length,
      sizeBytes: [...blobs.values()].reduce((a, b) => a + b, 0),
      path: join(repoDir, "snapshots", commit),
    });
  }
  return {
    repo: nameParts.join("/"),
    kind,
    path: repoDir,
    sizeBytes,
    revisions,
    refs,
    lastModified: newest === null ? null : new Date(newest).toISOString(),
    incompleteBlobs,
    incompleteBytes,
  };
}

export async function scanCache(cacheDir: string): Promise<CacheScan> {
  const names = await listDir(cacheDir);
  const repos: CachedRepo[] = [];
  const warnings: string[] = [];
  for (const name of (names ?? []).sort()) {
    if (name.startsWith(".")) continue; // .locks
    const repo = await scanCachedRepo(join(cacheDir, name));
    if (repo) repos.push(repo);
    else warnings.push(`${relative(cacheDir, join(cacheDir, name))}: not a cache entry (models--org--name)`);
  }
  return {
    cacheDir,
    exists: names !== null,
    repos,
    totalBytes: repos.reduce((sum, repo) => sum + repo.sizeBytes, 0),
    warnings,
  };
}
