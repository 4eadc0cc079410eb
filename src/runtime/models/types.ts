/**
 * The raw material a model source gathers: config.json, safetensors headers, GGUF metadata, and
 * where they came from. The planner turns it into an Architecture (core/model/parse-config.ts,
 * core/model/gguf-config.ts); nothing here is normalized.
 */

export interface SafetensorsTensorInfo {
  name: string;
  /** dtype exactly as written in the header: "BF16", "F8_E4M3", "I32", "U8"... */
  dtype: string;
  shape: number[];
}

export interface SafetensorsSummary {
  /** Every tensor of every shard, in shard order then header order. */
  tensors: SafetensorsTensorInfo[];
  /**
   * Element counts per dtype, computed as the Hub computes its "safetensors.parameters"
   * (@huggingface/hub computeNumOfParamsByDtypeSingleFile: packed quantized weights count their
   * unpacked elements, bookkeeping tensors such as scales are skipped).
   */
  parameterCount: Record<string, number>;
  /** Weight file names (relative to the model directory / repo root), without the index file. */
  files: string[];
}

/** Stands in for a GGUF metadata value too large to keep (token lists, merges, embedded tokenizer JSON). */
export interface GgufOmittedValue {
  omitted: "array" | "string";
  /** Element count (array) or character count (string) of the value left out. */
  length: number;
}

export interface GgufTensorSummary {
  name: string;
  /** Dimensions in GGUF order (ne[0] first: the innermost, contiguous dimension). */
  shape: number[];
  /** ggml type name, e.g. "Q4_K", "F16"; "UNKNOWN_<id>" for an id this version does not know. */
  ggmlType: string;
}

export interface GgufSummary {
  /** general.architecture, e.g. "llama", "qwen3moe", "deepseek2". */
  architecture: string;
  /**
   * The KV metadata with 64-bit integers as numbers (strings when beyond 2^53) and huge values
   * (tokenizer.ggml.tokens, merges...) replaced by a GgufOmittedValue that keeps their length.
   */
  metadata: Record<string, unknown>;
  /** Tensors of every shard. */
  tensors: GgufTensorSummary[];
  /** Total size of the GGUF file(s) in bytes, null when the source did not say. */
  fileSizeBytes: number | null;
}

export type SourceKind = "local" | "hf-cache" | "hub" | "catalog";

export interface SourceAttempt {
  source: SourceKind;
  outcome: "found" | "not-found" | "skipped" | "error";
  message: string;
}

export interface RawModel {
  /** What the user asked for. */
  ref: string;
  /** Repo id ("Qwen/Qwen3-0.6B") or absolute directory / file path. */
  id: string;
  origin: { kind: SourceKind; location: string; revision: string | null };
  /** Parsed config.json; null for a GGUF-only model. */
  config: Record<string, unknown> | null;
  safetensors: SafetensorsSummary | null;
  gguf: GgufSummary | null;
  /** Every source tried, in order, with why it did or did not answer. */
  attempts: SourceAttempt[];
}

/**
 * What the caller's catalog returns for an id or alias (wired to the built-in catalog by the
 * caller). `id`, when given, is the entry's repo id and becomes RawModel.id (an alias resolves
 * to the repo it names).
 */
export type CatalogLookup = (id: string) => { config: Record<string, unknown>; id?: string } | undefined;

export interface ResolveModelOptions {
  /** Environment to read HF_* variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Git revision on the Hub / in the HF cache: branch, tag or commit hash (default "main"). */
  revision?: string;
  /** Skip the Hub (also when HF_HUB_OFFLINE is set). */
  offline?: boolean;
  /** Per-request timeout for Hub requests in milliseconds (default 15000). */
  timeoutMs?: number;
  /** fetch implementation for Hub requests (default globalThis.fetch). */
  fetch?: typeof fetch;
  catalogLookup?: CatalogLookup;
  /** Home directory for `~` expansion and the default HF cache (default os.homedir()). */
  homeDir?: string;
  /** Directory relative refs are resolved against (default process.cwd()). */
  cwd?: string;
  /** Which GGUF file to read when a directory or repo holds several (path relative to it). */
  ggufFile?: string;
  /** Cancels Hub requests. */
  signal?: AbortSignal;
}
