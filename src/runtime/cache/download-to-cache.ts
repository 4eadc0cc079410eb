import { ServepilotError } from "../../core/errors.js";
import { createHubClient } from "../models/hub-client.js";
import { classifyHubError } from "../models/hub-errors.js";
import { resolveSourceSettings } from "../models/source-settings.js";
import { readFreeBytes } from "./disk-space.js";
import { createDownloadFetch } from "./download-fetch.js";
import { type DownloadProgress, runDownload } from "./download-repo.js";
import type { FileFilter } from "./match-glob.js";
import { type DownloadPlan, planDownload } from "./plan-download.js";

export interface DownloadOptions {
  revision?: string | undefined;
  include?: readonly string[];
  exclude?: readonly string[];
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  fetch?: typeof fetch;
  /** Called as bytes arrive (library code never prints: the CLI draws the progress line). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Called once the plan is known, before any byte is fetched. */
  onPlan?: (plan: DownloadPlan) => void;
  /**
   * Cancels the download: requests are aborted, the partial file of the blob in flight is removed
   * (a cancel is deliberate, unlike a dropped connection, whose partial file is kept to resume), and
   * the promise rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

export interface DownloadResult {
  repo: string;
  revision: string;
  commit: string;
  cacheDir: string;
  snapshotPath: string;
  files: Array<{ path: string; size: number; blob: string; fetched: boolean; resumedFrom: number }>;
  totalBytes: number;
  fetchedBytes: number;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * Downloads a Hub model repo (or the files the globs select) into the shared Hugging Face cache.
 * Errors: 401/403 gated -> PERMISSION_DENIED (exit 7), network -> NETWORK_ERROR (6), file
 * system -> CACHE_ERROR (5), not enough free space -> CACHE_ERROR before anything is fetched.
 */
export async function downloadToCache(repo: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (!REPO_ID.test(repo)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `expected a Hub repo id like org/name, got ${JSON.stringify(repo)}`,
    );
  }
  const settings = await resolveSourceSettings({
    ...(options.env ? { env: options.env } : {}),
    ...(options.homeDir ? { homeDir: options.homeDir } : {}),
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (settings.offlineReason) {
    throw new ServepilotError("INVALID_ARGUMENT", `cannot download ${repo}: ${settings.offlineReason}`, {
      hint: "Unset HF_HUB_OFFLINE to allow downloads from the Hub.",
    });
  }
  const meta = createHubClient({
    hubUrl: settings.hubUrl,
    token: settings.token,
    timeoutMs: settings.timeoutMs,
    baseFetch: settings.fetch,
    signal: options.signal,
  });
  const blobs = createHubClient({
    hubUrl: settings.hubUrl,
    token: settings.token,
    timeoutMs: 2_147_483_647, // the body may take hours; the headers' deadline is in createDownloadFetch
    baseFetch: createDownloadFetch(settings.fetch, settings.timeoutMs),
    signal: options.signal,
  });
  const errorContext = {
    repo,
    revision: settings.revision,
    hubUrl: settings.hubUrl,
    tokenSet: settings.token !== null,
    timeoutMs: settings.timeoutMs,
  };
  const raise = (error: unknown, client: typeof meta): never => {
    if (options.signal?.aborted) throw options.signal.reason;
    const outcome = classifyHubError(error, { ...errorContext, client });
    if (outcome.outcome === "error") throw outcome.error;
    throw new ServepilotError("MODEL_NOT_FOUND", outcome.message, {
      details: { repo, revision: settings.revision },
    });
  };
  const filter: FileFilter = { include: options.include ?? [], exclude: options.exclude ?? [] };
  const plan = await planDownload(repo, settings.revision, filter, {
    hubUrl: settings.hubUrl,
    fetch: meta.fetch,
    cacheDir: settings.cacheDir,
  }).catch((error: unknown) => raise(error, meta));
  const free = await readFreeBytes(settings.cacheDir);
  if (plan.neededBytes > free) {
    throw new ServepilotError(
      "CACHE_ERROR",
      `not enough disk space for ${repo}: ${plan.neededBytes} bytes to download, ${free} bytes free at ${settings.cacheDir}`,
      {
        hint: "Free space (servepilot cache prune / remove), select fewer files with --include / --exclude, or set HF_HUB_CACHE to a larger disk.",
        details: { neededBytes: plan.neededBytes, freeBytes: free, cacheDir: settings.cacheDir },
      },
    );
  }
  options.onPlan?.(plan);
  const snapshotPath = await runDownload(plan, {
    hubUrl: settings.hubUrl,
    fetch: blobs.fetch,
    onProgress: options.onProgress,
    signal: options.signal,
  }).catch((error: unknown) => raise(error, blobs));
  return {
    repo,
    revision: settings.revision,
    commit: plan.commit,
    cacheDir: settings.cacheDir,
    snapshotPath,
    files: plan.files.map((f) => ({
      path: f.path,
      size: f.size,
      blob: f.etag,
      fetched: !f.cached,
      resumedFrom: f.cached ? 0 : f.partialBytes,
    })),
    totalBytes: plan.totalBytes,
    fetchedBytes: plan.neededBytes,
  };
}
