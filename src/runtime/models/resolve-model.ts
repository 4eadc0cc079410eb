import { type ErrorCode, ServepilotError } from "../../core/errors.js";
import { resolveFromHfCache } from "./source-hf-cache.js";
import { resolveFromLocal } from "./source-local.js";
import type { SourceOutcome } from "./source-outcome.js";
import { type ModelSourceSettings, resolveSourceSettings } from "./source-settings.js";
import type { RawModel, ResolveModelOptions, SourceAttempt, SourceKind } from "./types.js";

/** owner/name as the Hub allows it (letters, digits, "-", "_", "."; no ".." segments). */
const REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9_][\w.-]{0,95}$/;
/** A single name: a catalog alias ("qwen3-8b") rather than a repo. */
const ALIAS = /^[\w.+-]{1,128}$/;

/** Which failure explains best why nothing answered, when several sources failed. */
const FAILURE_PRIORITY: readonly ErrorCode[] = ["PERMISSION_DENIED", "NETWORK_ERROR"];

function isRepoId(ref: string): boolean {
  return REPO_ID.test(ref) && !ref.includes("..");
}

function resolveFromCatalog(ref: string, settings: ModelSourceSettings): SourceOutcome {
  if (!settings.catalogLookup) return { outcome: "skipped", message: "no catalog available" };
  const entry = settings.catalogLookup(ref);
  if (!entry) return { outcome: "not-found", message: `no catalog entry or alias ${JSON.stringify(ref)}` };
  return {
    outcome: "found",
    message: "built-in catalog entry",
    model: {
      id: entry.id ?? ref,
      origin: { kind: "catalog", location: "catalog", revision: null },
      config: entry.config,
      safetensors: null,
      gguf: null,
    },
  };
}

function describeAttempts(attempts: readonly SourceAttempt[]): string {
  return attempts.map((a) => `  - ${a.source}: ${a.outcome} (${a.message})`).join("\n");
}

function failWith(ref: string, attempts: SourceAttempt[], failures: ServepilotError[]): never {
  const details = { ref, attempts };
  for (const code of FAILURE_PRIORITY) {
    const failure = failures.find((f) => f.code === code);
    if (failure) {
      throw new ServepilotError(
        code,
        `${failure.message}\nSources tried for ${JSON.stringify(ref)}:\n${describeAttempts(attempts)}`,
        {
          hint: failure.hint,
          details,
          cause: failure,
        },
      );
    }
  }
  throw new ServepilotError(
    "MODEL_NOT_FOUND",
    `Model ${JSON.stringify(ref)} was not found:\n${describeAttempts(attempts)}`,
    {
      hint: "Check the id (owner/name as on huggingface.co), set HF_TOKEN for private or gated models, or point at a local directory that holds config.json.",
      details,
    },
  );
}

/**
 * Finds a model's raw material: a local directory or .gguf file, the Hugging Face cache, the Hub,
 * then the catalog, in that order. Every source tried is recorded in `attempts`.
 */
export async function resolveModel(ref: string, options: ResolveModelOptions = {}): Promise<RawModel> {
  const wanted = ref.trim();
  if (!wanted)
    throw new ServepilotError("INVALID_ARGUMENT", "The model reference is empty: give a repo id or a path");
  const settings = await resolveSourceSettings(options);
  const attempts: SourceAttempt[] = [];
  const failures: ServepilotError[] = [];

  const sources: Array<[SourceKind, () => Promise<SourceOutcome> | SourceOutcome]> = [
    ["local", () => resolveFromLocal(wanted, settings)],
    ["hf-cache", () => resolveFromHfCache(wanted, settings)],
    // Loaded only when the Hub is really asked: @huggingface/hub costs ~100 ms of start-up.
    [
      "hub",
      async () =>
        settings.offlineReason
          ? { outcome: "skipped", message: settings.offlineReason }
          : (await import("./source-hub.js")).resolveFromHub(wanted, settings),
    ],
    ["catalog", () => resolveFromCatalog(wanted, settings)],
  ];
  for (const [source, run] of sources) {
    if ((source === "hf-cache" || source === "hub") && !isRepoId(wanted)) {
      if (!ALIAS.test(wanted)) {
        throw new ServepilotError(
          "INVALID_ARGUMENT",
          `${JSON.stringify(wanted)} is neither an existing path nor a Hugging Face repo id (owner/name)`,
          { details: { ref: wanted } },
        );
      }
      attempts.push({ source, outcome: "skipped", message: "not an owner/name repo id" });
      continue;
    }
    const result = await run();
    attempts.push({ source, outcome: result.outcome, message: result.message });
    if (result.outcome === "error") failures.push(result.error);
    if (result.outcome === "found") return { ref, ...result.model, attempts };
  }
  return failWith(wanted, attempts, failures);
}
