import { ServepilotError } from "../../core/errors.js";

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** A file-system failure inside the model cache as CACHE_ERROR (exit 5), naming the path. */
export function toCacheError(error: unknown, path: string, action: string): ServepilotError {
  if (error instanceof ServepilotError) return error;
  const code = errnoCode(error) ?? null;
  const reason = error instanceof Error ? error.message : String(error);
  const denied = code === "EACCES" || code === "EPERM" || code === "EROFS";
  return new ServepilotError(
    "CACHE_ERROR",
    `Cannot ${action} ${path}: ${denied ? "permission denied" : reason}`,
    {
      hint: denied
        ? "Check the permissions of the cache directory, or point HF_HUB_CACHE (or HF_HOME) at a writable one."
        : "Check the cache directory (HF_HUB_CACHE / HF_HOME) and the free disk space.",
      details: { path, code },
      cause: error,
    },
  );
}
