import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { downloadFile, fileDownloadInfo } from "@huggingface/hub";
import { ServepilotError } from "../../core/errors.js";
import { HubHttpError } from "../models/hub-client.js";
import { toCacheError } from "./cache-fs-error.js";
import type { DownloadPlan, PlannedFile } from "./plan-download.js";

export interface DownloadProgress {
  file: string;
  fileBytes: number;
  fileSize: number;
  /** Bytes fetched in this run, over every file. */
  doneBytes: number;
  /** Bytes this run has to fetch (the plan's neededBytes). */
  neededBytes: number;
  filesDone: number;
  filesTotal: number;
}

export interface FetchContext {
  hubUrl: string;
  fetch: typeof fetch;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  /** Cancels the download; the partial file of the blob in flight is removed. */
  signal?: AbortSignal | undefined;
}

/** Points snapshots/{commit}/{path} at blobs/{etag} with a relative link, as huggingface_hub does. */
async function linkSnapshot(plan: DownloadPlan, file: PlannedFile): Promise<void> {
  const pointer = join(plan.repoDir, "snapshots", plan.commit, file.path);
  const blob = join(plan.repoDir, "blobs", file.etag);
  try {
    await mkdir(dirname(pointer), { recursive: true });
    await rm(pointer, { force: true });
    await symlink(relative(dirname(pointer), blob), pointer);
  } catch (error) {
    throw toCacheError(error, pointer, "create the snapshot link");
  }
}

/**
 * Where the body of a file comes from. The library resolves the file (size, final URL, Xet
 * storage); a plain file is then read with one GET, `Range: bytes={start}-` when resuming (its
 * WebBlob.stream() never settles when a range request fails); a Xet-stored file through the
 * library's XetBlob.
 */
async function openBody(
  plan: DownloadPlan,
  file: PlannedFile,
  ctx: FetchContext,
): Promise<{ body: ReadableStream<Uint8Array>; start: number }> {
  const params = {
    repo: plan.repo,
    path: file.path,
    revision: plan.commit,
    hubUrl: ctx.hubUrl,
    fetch: ctx.fetch,
  };
  const info = await fileDownloadInfo(params);
  if (!info) {
    throw new ServepilotError(
      "NETWORK_ERROR",
      `${ctx.hubUrl}/${plan.repo}: ${file.path} is listed but cannot be downloaded`,
    );
  }
  const resume = file.partialBytes > 0 && file.partialBytes < info.size ? file.partialBytes : 0;
  if (info.xet) {
    const blob = await downloadFile({ ...params, downloadInfo: info });
    if (!blob)
      throw new ServepilotError("NETWORK_ERROR", `${ctx.hubUrl}/${plan.repo}: no content for ${file.path}`);
    return { body: (resume > 0 ? blob.slice(resume) : blob).stream(), start: resume };
  }
  const response = await ctx.fetch(info.url, resume > 0 ? { headers: { Range: `bytes=${resume}-` } } : {});
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new HubHttpError(
      info.url,
      response.status,
      response.headers.get("x-error-code"),
      response.headers.get("x-error-message"),
    );
  }
  // A server that ignores the range sends the whole file: start over.
  return { body: response.body, start: response.status === 206 ? resume : 0 };
}

/** Fetches one file into blobs/{etag}.incomplete (appending when resuming), checks its size, renames it. */
async function fetchBlob(
  plan: DownloadPlan,
  file: PlannedFile,
  ctx: FetchContext,
  report: (bytes: number) => void,
): Promise<void> {
  const blobPath = join(plan.repoDir, "blobs", file.etag);
  const incomplete = `${blobPath}.incomplete`;
  const { body, start } = await openBody(plan, file, ctx);
  let written = start;
  report(start);
  const counter = async function* (source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      written += chunk.byteLength;
      report(written);
      yield chunk;
    }
  };
  try {
    await mkdir(dirname(blobPath), { recursive: true });
  } catch (error) {
    throw toCacheError(error, dirname(blobPath), "create");
  }
  const out = createWriteStream(incomplete, { flags: start > 0 ? "a" : "w" });
  try {
    await pipeline(
      Readable.fromWeb(body as NodeReadableStream<Uint8Array>),
      counter,
      out,
      ctx.signal ? { signal: ctx.signal } : {},
    );
  } catch (error) {
    if (ctx.signal?.aborted) {
      await rm(incomplete, { force: true });
      throw ctx.signal.reason;
    }
    if ((error as { syscall?: unknown } | null)?.syscall !== undefined)
      throw toCacheError(error, incomplete, "write");
    throw error;
  }
  const size = (
    await stat(incomplete).catch((error: unknown) => {
      throw toCacheError(error, incomplete, "read");
    })
  ).size;
  if (size !== file.size) {
    throw new ServepilotError(
      "NETWORK_ERROR",
      `${plan.repo}/${file.path}: received ${size} bytes, the Hub listed ${file.size}`,
      {
        hint: "Run the download again: it resumes from the partial file, or `servepilot cache prune` removes it.",
        details: { path: incomplete },
      },
    );
  }
  await rename(incomplete, blobPath).catch((error: unknown) => {
    throw toCacheError(error, blobPath, "move into place");
  });
}

/** Writes refs/{revision}, then every planned file that is not cached yet, then the snapshot links. */
export async function runDownload(plan: DownloadPlan, ctx: FetchContext): Promise<string> {
  if (plan.revision !== plan.commit) {
    const refPath = join(plan.repoDir, "refs", plan.revision);
    try {
      await mkdir(dirname(refPath), { recursive: true });
      await writeFile(refPath, plan.commit);
    } catch (error) {
      throw toCacheError(error, refPath, "write");
    }
  }
  let doneBefore = 0;
  let filesDone = 0;
  for (const file of plan.files) {
    ctx.signal?.throwIfAborted();
    if (!file.cached) {
      const base = doneBefore;
      const resumed = file.partialBytes;
      await fetchBlob(plan, file, ctx, (bytes) =>
        ctx.onProgress?.({
          file: file.path,
          fileBytes: bytes,
          fileSize: file.size,
          doneBytes: base + Math.max(0, bytes - resumed),
          neededBytes: plan.neededBytes,
          filesDone,
          filesTotal: plan.files.length,
        }),
      );
      doneBefore += file.size - resumed;
    }
    await linkSnapshot(plan, file);
    filesDone++;
  }
  return join(plan.repoDir, "snapshots", plan.commit);
}
