/**
 * Deleting models on disk that GET /api/models/local lists: a repo of the Hugging Face cache (its whole
 * `models--org--name` folder) or a model directory directly under `<dataDir>/models/`. The request
 * names what to delete by the listing's own keys (the repo id, the directory's name); the path deleted
 * is always one the scan reported, never one built from the request.
 *
 * A model an active instance (starting, ready, stopping) serves is refused with CONFLICT naming the
 * instance, as is a cache repo a download job is writing. The check and the rename happen under the
 * lifecycle lock, so no launch can pick the model in between. The folder is first renamed to a hidden
 * name in the same directory (one atomic step: the scans skip hidden names), then removed: a crash
 * during the removal leaves a hidden leftover, never a half-deleted model that still looks valid.
 */
import { randomBytes } from "node:crypto";
import { lstat, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { isActiveStatus } from "../../runtime/supervisor/instance.js";
import { listInstances } from "../../runtime/supervisor/state-store.js";
import type { StudioContext } from "../context.js";
import type { DownloadJobs } from "./downloads.js";
import { cachedModels, localModelDirs } from "./local-models.js";

/** Prefix of a folder being deleted (hidden: the cache scan and the local listing skip it). */
export const DELETING_PREFIX = ".servepilot-deleting-";

export interface DeletedModel {
  kind: "hf-cache" | "local";
  /** The cache repo id (hf-cache) or the directory name (local). */
  id: string;
  path: string;
  /** Bytes of the regular files removed. */
  freedBytes: number;
}

/** Bytes of the regular files under `path`, without following symbolic links. */
async function diskBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => null);
  if (!info) return 0;
  if (info.isFile()) return info.size;
  if (!info.isDirectory()) return 0;
  let total = 0;
  const names = await readdir(path).catch(() => [] as string[]);
  for (const name of names) total += await diskBytes(join(path, name));
  return total;
}

function isWithin(candidate: string, dir: string): boolean {
  return candidate === dir || candidate.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Active instances serving the model: its repo id, or a path at or under its folder (model or argv). */
async function instancesUsing(
  ctx: StudioContext,
  target: { repo?: string; path: string },
): Promise<string[]> {
  const records = await listInstances(ctx.dataDir);
  const dir = resolve(target.path);
  const names: string[] = [];
  for (const record of records) {
    if (!isActiveStatus(record.status)) continue;
    const byRepo = target.repo !== undefined && record.model.toLowerCase() === target.repo.toLowerCase();
    const byPath = [record.model, ...record.argv].some(
      (arg) => isAbsolute(arg) && isWithin(resolve(arg), dir),
    );
    if (byRepo || byPath) names.push(record.name);
  }
  return names;
}

function inUse(what: string, names: readonly string[]): ServepilotError {
  const list = names.join(", ");
  return new ServepilotError(
    "CONFLICT",
    `${what} is in use by instance${names.length === 1 ? "" : "s"} ${list}: it cannot be deleted`,
    {
      hint: `stop ${names.length === 1 ? "it" : "them"} first (POST /api/instances/{name}/stop)`,
      details: { instances: [...names] },
    },
  );
}

/** Runs `work` under the lifecycle lock when the instances module is there (no launch decides meanwhile). */
async function underLifecycleLock<T>(ctx: StudioContext, work: () => Promise<T>): Promise<T> {
  const lifecycle = ctx.services.lifecycle;
  return lifecycle ? lifecycle.lock.run(work) : work();
}

/** Renames `path` to a hidden name in the same directory (one atomic step); returns the new path. */
async function park(path: string): Promise<string> {
  const parked = join(dirname(path), `${DELETING_PREFIX}${basename(path)}-${randomBytes(4).toString("hex")}`);
  await rename(path, parked).catch((error: unknown) => {
    throw new ServepilotError("CACHE_ERROR", `cannot delete ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  return parked;
}

async function removeParked(parked: string): Promise<number> {
  const freedBytes = await diskBytes(parked);
  await rm(parked, { recursive: true, force: true });
  return freedBytes;
}

/** Removes leftovers of deletions a crash interrupted (hidden `.servepilot-deleting-*` folders) in `dir`. */
export async function removeLeftovers(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(DELETING_PREFIX)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** DELETE /api/models/local/hf-cache?repo=: the repo's whole folder in the cache the listing scans. */
export async function deleteCachedModel(
  ctx: StudioContext,
  downloads: DownloadJobs,
  repo: string,
): Promise<DeletedModel> {
  const path = await underLifecycleLock(ctx, async () => {
    const cache = await cachedModels(ctx);
    const found = cache.models.find((m) => m.repo === repo);
    if (!found || dirname(resolve(found.path)) !== resolve(cache.cacheDir)) {
      throw new ServepilotError("NOT_FOUND", `repo ${repo}: no such model in the Hugging Face cache`, {
        hint: "GET /api/models/local lists the cached repos (hfCache.models[].repo)",
        details: { repo, cacheDir: cache.cacheDir },
      });
    }
    const job = downloads.activeFor(repo);
    if (job) {
      throw new ServepilotError("CONFLICT", `${repo} is being downloaded (${job.id}): it cannot be deleted`, {
        hint: `cancel the download first (POST /api/downloads/${job.id}/cancel)`,
        details: { download: job.id },
      });
    }
    const users = await instancesUsing(ctx, { repo, path: found.path });
    if (users.length > 0) throw inUse(repo, users);
    return { original: found.path, parked: await park(found.path) };
  });
  const freedBytes = await removeParked(path.parked);
  const deleted: DeletedModel = { kind: "hf-cache", id: repo, path: path.original, freedBytes };
  ctx.events.publish("model", { action: "deleted", ...deleted });
  return deleted;
}

/** DELETE /api/models/local/dirs?name=: a model directory directly under `<dataDir>/models/`. */
export async function deleteLocalModel(ctx: StudioContext, name: string): Promise<DeletedModel> {
  const modelsDir = join(ctx.dataDir, "models");
  const path = await underLifecycleLock(ctx, async () => {
    const models = await localModelDirs([modelsDir]);
    const found = models.find((m) => m.name === name && dirname(resolve(m.path)) === resolve(modelsDir));
    if (!found) {
      throw new ServepilotError(
        "NOT_FOUND",
        `name ${name}: no model directory of that name in ${modelsDir}`,
        {
          hint: "GET /api/models/local lists them (local.models[].name)",
          details: { name, dir: modelsDir },
        },
      );
    }
    const users = await instancesUsing(ctx, { path: found.path });
    if (users.length > 0) throw inUse(found.path, users);
    return { original: found.path, parked: await park(found.path) };
  });
  const freedBytes = await removeParked(path.parked);
  const deleted: DeletedModel = { kind: "local", id: name, path: path.original, freedBytes };
  ctx.events.publish("model", { action: "deleted", ...deleted });
  return deleted;
}
