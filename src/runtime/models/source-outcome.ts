import type { ServepilotError } from "../../core/errors.js";
import type { RawModel } from "./types.js";

/** What a source found: everything of RawModel but the request and the attempt log. */
export type FoundModel = Pick<RawModel, "id" | "origin" | "config" | "safetensors" | "gguf">;

/**
 * One source's answer. "error" carries the error to raise if no later source answers (a gated
 * repo, a network failure); errors that settle the question at once (a malformed config.json in
 * a directory the user pointed at) are thrown instead.
 */
export type SourceOutcome =
  | { outcome: "found"; model: FoundModel; message: string }
  | { outcome: "not-found" | "skipped"; message: string }
  | { outcome: "error"; message: string; error: ServepilotError };
