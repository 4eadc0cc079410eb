import { access, constants, stat } from "node:fs/promises";
import { ggufAllShards } from "@huggingface/gguf";
import { ServepilotError } from "../../core/errors.js";
import { toFsError } from "./fs-errors.js";
import { HubHttpError } from "./hub-client.js";
import { summarizeGguf } from "./summarize-gguf.js";
import type { GgufSummary } from "./types.js";

function invalidGguf(label: string, error: unknown): ServepilotError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ServepilotError("INVALID_MODEL_CONFIG", `${label}: not a readable GGUF file: ${reason}`, {
    hint: "The file is damaged or incomplete: download it again.",
    details: { file: label },
    cause: error,
  });
}

/** Failures of the transport (HTTP status, timeout, unreachable host) rather than of the file. */
function isTransportError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return (
    error instanceof HubHttpError ||
    name === "TimeoutError" ||
    name === "AbortError" ||
    (error instanceof TypeError && error.message === "fetch failed")
  );
}

/**
 * Reads the header of a local GGUF file with @huggingface/gguf (ranged reads, never the whole
 * file). A shard name (…-00001-of-00003.gguf) reads every shard of the set.
 */
export async function readLocalGguf(path: string): Promise<GgufSummary> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw toFsError(error, path, "read");
  }
  let result: Awaited<ReturnType<typeof ggufAllShards>>;
  try {
    result = await ggufAllShards(path, { allowLocalFile: true });
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === "string") throw toFsError(error, path, "read");
    throw invalidGguf(path, error);
  }
  let size = 0;
  for (const file of result.urls) {
    try {
      size += (await stat(file)).size;
    } catch (error) {
      throw toFsError(error, file, "read");
    }
  }
  return summarizeGguf(result.shards, size, path);
}

/**
 * Reads the header of a GGUF file over HTTP (Range requests through `fetchImpl`, which must throw
 * on HTTP errors). Transport failures propagate for the caller to classify.
 */
export async function readRemoteGguf(
  url: string,
  fetchImpl: typeof fetch,
  fileSizeBytes: number | null,
): Promise<GgufSummary> {
  let result: Awaited<ReturnType<typeof ggufAllShards>>;
  try {
    result = await ggufAllShards(url, { fetch: fetchImpl });
  } catch (error) {
    if (isTransportError(error)) throw error;
    throw invalidGguf(url, error);
  }
  return summarizeGguf(result.shards, fileSizeBytes, url);
}
