/**
 * Checks a recipe's raw engine flags (`extraArgs`) before they can reach a launch: every flag must be
 * one the engine knows (its flag registry, data/engines/flags/), and none may override what
 * servepilot sets itself: where the engine listens and what it serves are the supervisor's, the
 * planner's settings belong in `engineArgs` (a second --max-model-len would silently win over the
 * planned one, argparse keeps the last).
 */
import { checkArgv, type FlagRegistry } from "../../core/engines/flag-registry.js";
import type { EngineName } from "../../core/memory/types.js";
import type { FieldError } from "./field-errors.js";

const SUPERVISOR = "servepilot sets it from the launch (host, port and served name are the supervisor's)";
const MODEL = "servepilot passes the recipe's model; change `model` instead";
const API_KEY = "the studio's gateway authenticates clients; a key on the engine would lock servepilot out";

/** Flags servepilot sets itself, by canonical name (any alias resolves to it), with why and what instead. */
const RESERVED: Record<EngineName, Record<string, string>> = {
  vllm: {
    "--host": SUPERVISOR,
    "--port": SUPERVISOR,
    "--served-model-name": SUPERVISOR,
    "--model": MODEL,
    "--api-key": API_KEY,
    "--tensor-parallel-size": "use engineArgs.tensorParallelSize",
    "--pipeline-parallel-size": "use engineArgs.pipelineParallelSize",
    "--max-model-len": "use engineArgs.maxModelLen",
    "--gpu-memory-utilization": "use engineArgs.gpuMemoryUtilization",
    "--dtype": "use engineArgs.dtype",
    "--quantization": "use engineArgs.quantization",
    "--kv-cache-dtype": "use engineArgs.kvCacheDtype",
    "--max-num-seqs": "use engineArgs.maxNumSeqs",
    "--max-num-batched-tokens": "use engineArgs.maxNumBatchedTokens",
    "--block-size": "use engineArgs.blockSize",
    "--enforce-eager": "use engineArgs.enforceEager",
  },
  sglang: {
    "--host": SUPERVISOR,
    "--port": SUPERVISOR,
    "--served-model-name": SUPERVISOR,
    "--model-path": MODEL,
    "--api-key": API_KEY,
    "--tp-size": "use engineArgs.tensorParallelSize",
    "--pp-size": "use engineArgs.pipelineParallelSize",
    "--context-length": "use engineArgs.maxModelLen",
    "--mem-fraction-static": "use engineArgs.gpuMemoryUtilization",
    "--dtype": "use engineArgs.dtype",
    "--quantization": "use engineArgs.quantization",
    "--kv-cache-dtype": "use engineArgs.kvCacheDtype",
    "--max-running-requests": "use engineArgs.maxNumSeqs",
  },
  llamacpp: {
    "--host": SUPERVISOR,
    "--port": SUPERVISOR,
    "--alias": SUPERVISOR,
    "--model": MODEL,
    "--hf-repo": MODEL,
    "--api-key": API_KEY,
    "--ctx-size": "use engineArgs.maxModelLen",
    "--parallel": "use engineArgs.maxNumSeqs",
    "--n-gpu-layers": "servepilot offloads every layer (-ngl 999)",
    "--cache-type-k": "use engineArgs.kvCacheDtype",
    "--cache-type-v": "use engineArgs.kvCacheDtype",
  },
};

/** Largest extraArgs list and item accepted (a form, not a script). */
export const MAX_EXTRA_ARGS = 128;
export const MAX_EXTRA_ARG_LENGTH = 4096;

function spellingIndex(registry: FlagRegistry | undefined): Map<string, string> {
  const index = new Map<string, string>();
  for (const flag of registry?.flags ?? []) {
    index.set(flag.name, flag.name);
    for (const alias of flag.aliases) index.set(alias.name, flag.name);
    for (const negation of flag.negation ?? []) index.set(negation.name, flag.name);
  }
  return index;
}

/** The canonical flag an argv item names (`--max_model_len=4096` → `--max-model-len`), or null for a value. */
function canonicalFlag(item: string, registry: FlagRegistry | undefined, index: Map<string, string>) {
  if (!item.startsWith("-") || item.length < 2 || /^-\d/.test(item)) return null;
  const eq = item.indexOf("=");
  let name = eq > 0 ? item.slice(0, eq) : item;
  if (name.startsWith("--") && (registry?.syntax.underscoreNames ?? true)) name = name.replaceAll("_", "-");
  const dot = name.indexOf(".");
  const base = dot > 2 ? name.slice(0, dot) : name;
  return index.get(name) ?? index.get(base) ?? name;
}

/**
 * Field errors for `extraArgs` (`extraArgs.N`), first problem per item. Without a registry only the
 * reserved flags are checked. `version` also refuses flags that release does not have.
 */
export function checkExtraArgs(
  args: readonly string[],
  options: { engine: EngineName; registry: FlagRegistry | undefined; version?: string | undefined },
): FieldError[] {
  const errors: FieldError[] = [];
  const field = (i: number) => `extraArgs.${i}`;
  args.forEach((item, i) => {
    if (item.includes("\0")) errors.push({ field: field(i), message: "contains a NUL character" });
  });
  if (errors.length > 0) return errors;
  const index = spellingIndex(options.registry);
  const reserved = RESERVED[options.engine];
  args.forEach((item, i) => {
    const flag = canonicalFlag(item, options.registry, index);
    const why = flag === null ? undefined : reserved[flag];
    if (flag !== null && why !== undefined) {
      errors.push({ field: field(i), message: `${item.split("=")[0]} cannot be set in extraArgs: ${why}` });
    }
  });
  if (options.registry && options.registry.engine === options.engine) {
    const problems = checkArgv(options.registry, args, {
      engine: options.engine,
      skip: 0,
      ...(options.version !== undefined ? { version: options.version } : {}),
    });
    for (const problem of problems) {
      if (problem.index < 0) continue; // the release itself is outside the registry: not the flags' fault
      errors.push({ field: field(problem.index), message: problem.message });
    }
  }
  const position = (e: FieldError) => Number(e.field.slice("extraArgs.".length));
  return errors.sort((a, b) => position(a) - position(b));
}
