import { ServepilotError } from "../../core/errors.js";

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isMissingPathError(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** A file-system failure on a model path as a user-facing error naming the path. */
export function toFsError(error: unknown, path: string, action: string): ServepilotError {
  if (error instanceof ServepilotError) return error;
  const code = errnoCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (code === "EACCES" || code === "EPERM") {
    return new ServepilotError("PERMISSION_DENIED", `Cannot ${action} ${path}: permission denied`, {
      hint: "Check the file permissions, or run servepilot as a user that can read the model directory.",
      details: { path, code },
      cause: error,
    });
  }
  if (isMissingPathError(error)) {
    return new ServepilotError("MODEL_NOT_FOUND", `Cannot ${action} ${path}: no such file or directory`, {
      details: { path, code },
      cause: error,
    });
  }
  return new ServepilotError("INVALID_ARGUMENT", `Cannot ${action} ${path}: ${reason}`, {
    details: { path, code: code ?? null },
    cause: error,
  });
}
