import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import type { CatalogLookup, ResolveModelOptions } from "./types.js";

export const DEFAULT_HUB_URL = "https://huggingface.co";
export const DEFAULT_HUB_TIMEOUT_MS = 15_000;
export const DEFAULT_REVISION = "main";

/** The resolved, complete settings every source reads (one place for the defaults). */
export interface ModelSourceSettings {
  readonly hubUrl: string;
  readonly token: string | null;
  /** Why the Hub is skipped, or null when it is tried. */
  readonly offlineReason: string | null;
  readonly timeoutMs: number;
  readonly cacheDir: string;
  readonly revision: string;
  readonly homeDir: string;
  readonly cwd: string;
  readonly fetch: typeof fetch;
  readonly signal: AbortSignal | undefined;
  readonly ggufFile: string | undefined;
  readonly catalogLookup: CatalogLookup | undefined;
}

/** huggingface_hub reads boolean variables this way (constants._is_true). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "on", "yes", "true"].includes(value.trim().toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function resolveHubUrl(env: NodeJS.ProcessEnv): string {
  const raw = nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `HF_ENDPOINT must be an http(s) URL, got ${JSON.stringify(raw)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `HF_ENDPOINT must be an http(s) URL, got ${JSON.stringify(raw)}`,
    );
  }
  return raw.replace(/\/+$/, "");
}

/** HF_HOME as huggingface_hub computes it: $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
function resolveHfHome(env: NodeJS.ProcessEnv, home: string): string {
  return nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(home, ".cache"), "huggingface");
}

/** $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN, else the file `huggingface-cli login` writes. */
async function resolveToken(env: NodeJS.ProcessEnv, hfHome: string): Promise<string | null> {
  const fromEnv = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnv) return fromEnv;
  try {
    return nonEmpty(await readFile(nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome, "token"), "utf8")) ?? null;
  } catch {
    return null;
  }
}

export async function resolveSourceSettings(options: ResolveModelOptions = {}): Promise<ModelSourceSettings> {
  const env = options.env ?? process.env;
  // The caller's environment decides (the studio serves with its own env; os.homedir() is this process's)
  const home = options.homeDir ?? nonEmpty(env.HOME) ?? homedir();
  const timeoutMs = options.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`,
    );
  }
  const revision = nonEmpty(options.revision) ?? DEFAULT_REVISION;
  const hfHome = resolveHfHome(env, home);
  const offlineReason = options.offline
    ? "offline mode requested"
    : isTrue(env.HF_HUB_OFFLINE)
      ? "HF_HUB_OFFLINE is set"
      : null;
  return {
    hubUrl: resolveHubUrl(env),
    token: await resolveToken(env, hfHome),
    offlineReason,
    timeoutMs,
    cacheDir: nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome, "hub"),
    revision,
    homeDir: home,
    cwd: options.cwd ?? process.cwd(),
    fetch: options.fetch ?? globalThis.fetch,
    signal: options.signal,
    ggufFile: nonEmpty(options.ggufFile),
    catalogLookup: options.catalogLookup,
  };
}
