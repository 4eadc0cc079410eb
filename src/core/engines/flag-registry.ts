import { z } from "zod";
import { ServepilotError } from "../errors.js";
import type { EngineName } from "../memory/types.js";
import { inVersionRange, parseLlamaCppBuild } from "./select-release.js";
import { compareVersions } from "./version.js";

/**
 * Flag registries (data/engines/flags/*.yaml): every flag an engine's launch command accepts, per
 * release range, and a checker that reads an argv the way the engine's own parser would (argparse
 * for vLLM and SGLang, common/arg.cpp for llama-server) and reports what the engine would refuse.
 */

const flagName = z.string().regex(/^--?[A-Za-z0-9][A-Za-z0-9._-]*$/, "a flag such as --port or -tp");
const release = z
  .string()
  .regex(/^(v?\d+\.\d+(\.\d+)?([.+-]\S*)?|b\d+)$/, "a release such as 0.11.0 or b7475");
type Bounds = { since?: string | undefined; until?: string | undefined };
const bounds = { since: release.optional(), until: release.optional(), notes: z.string().optional() };

/** A spelling (alias or negation), bare or with the releases that have it. */
const SpellingSchema = z.preprocess(
  (v) => (typeof v === "string" ? { name: v } : v),
  z.object({ name: flagName, ...bounds }).strict(),
);
/** A value of a choice list (or a keyword accepted in place of a typed value), bare or with releases. */
const ChoiceSchema = z.preprocess(
  (v) => (typeof v === "string" || typeof v === "number" ? { value: v } : v),
  z.object({ value: z.union([z.string(), z.number()]).transform(String), ...bounds }).strict(),
);

const FlagSpecSchema = z
  .object({
    name: flagName,
    aliases: z.array(SpellingSchema).default([]),
    kind: z.enum(["value", "boolean", "choice"]),
    /** human-int: an integer or a count such as 32k (x1000) / 32K (x1024), as vLLM and SGLang parse it. */
    type: z.enum(["int", "float", "human-int", "string", "path", "json"]).optional(),
    /** argparse nargs: "?" zero or one value, "+" one or more, "*" any number; absent = exactly one. */
    nargs: z.enum(["?", "+", "*"]).optional(),
    choices: z.array(ChoiceSchema).min(1).optional(),
    /** From this release on the engine accepts any value of `type`, not only the choices. */
    choicesUntil: release.optional(),
    keywords: z.array(ChoiceSchema).optional(),
    negation: z
      .union([SpellingSchema, z.array(SpellingSchema)])
      .transform((n) => (Array.isArray(n) ? n : [n]))
      .optional(),
    source: z.string().url().optional(),
    ...bounds,
  })
  .strict()
  .superRefine((flag, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", message: `${flag.name}: ${message}` });
    if (flag.kind === "choice" && !flag.choices) fail("kind choice needs choices");
    if (flag.kind !== "choice" && (flag.choices || flag.choicesUntil)) fail("only kind choice has choices");
    if (flag.kind === "value" && !flag.type) fail("kind value needs a type");
    if (flag.kind === "boolean" && (flag.type || flag.nargs || flag.keywords))
      fail("a boolean takes no value");
    if (flag.kind !== "boolean" && flag.negation) fail("only a boolean has a negation");
  });

export const FlagRegistrySchema = z
  .object({
    engine: z.enum(["vllm", "sglang", "llamacpp"]) satisfies z.ZodType<EngineName>,
    source: z.string().url(),
    /** Releases the registry describes, as space-separated comparators (">=0.8.0"). */
    versions: z.string().min(1),
    syntax: z
      .object({
        /** `--flag=value` is accepted (argparse); llama-server only takes `--flag value`. */
        equalsValue: z.boolean(),
        /** `--max_model_len` is read as `--max-model-len`. */
        underscoreNames: z.boolean(),
        /** `--json-flag.key value` sets one key of a JSON flag (vLLM's FlexibleArgumentParser). */
        dottedJsonKeys: z.boolean(),
        /** A flag that takes a value consumes the next item even when it starts with "-" (llama.cpp). */
        greedyValues: z.boolean(),
      })
      .strict(),
    notes: z.string().optional(),
    flags: z.array(FlagSpecSchema).min(1),
  })
  .strict()
  .superRefine((registry, ctx) => {
    const llama = registry.engine === "llamacpp";
    const seen = new Set<string>();
    registry.flags.forEach((flag, i) => {
      const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["flags", i], message });
      const spellings: Array<{ name: string } & Bounds> = [flag, ...flag.aliases, ...(flag.negation ?? [])];
      for (const { name } of spellings) {
        if (seen.has(name)) issue(`${name} is listed twice`);
        seen.add(name);
      }
      const bounded = [
        ...spellings,
        ...(flag.choices ?? []),
        ...(flag.keywords ?? []),
        { since: flag.choicesUntil },
      ];
      for (const v of bounded.flatMap((b: Bounds) => [b.since, b.until])) {
        if (v !== undefined && v.startsWith("b") !== llama) {
          issue(`${flag.name}: ${v} is not a ${llama ? "llama.cpp build (bNNNN)" : "release number"}`);
        }
      }
    });
  });

export type FlagRegistry = z.output<typeof FlagRegistrySchema>;
export type FlagSpec = FlagRegistry["flags"][number];

/** Validates a parsed registry file; the error names the file and the first invalid field. */
export function parseFlagRegistry(data: unknown, file: string): FlagRegistry {
  const result = FlagRegistrySchema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("") ?? "";
  throw new ServepilotError("INVALID_DATA_FILE", `${file}${field ? ` ${field}` : ""}: ${issue?.message}`, {
    details: { file, issues: result.error.issues },
  });
}

export type FlagProblemCode =
  | "unknown-flag"
  | "missing-value"
  | "invalid-choice"
  | "invalid-value"
  | "unexpected-value"
  | "unexpected-argument"
  | "not-yet-available"
  | "no-longer-available"
  | "version-not-covered";

export interface FlagProblem {
  code: FlagProblemCode;
  /** Position in argv (-1 for version-not-covered). */
  index: number;
  /** The argv item at fault. */
  arg: string;
  /** Canonical name of the flag concerned, when known. */
  flag: string | null;
  message: string;
}

export interface CheckArgvOptions {
  engine: EngineName;
  /** Release to check against (0.11.0, b7475); without it every release in the registry counts. */
  version?: string;
  /** Leading argv items that are the program, subcommand or model (3 for ["vllm", "serve", MODEL]). */
  skip: number;
}

const ENGINE_LABEL: Record<EngineName, string> = { vllm: "vLLM", sglang: "SGLang", llamacpp: "llama.cpp" };
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TYPE_TESTS: Record<string, (v: string) => boolean> = {
  int: (v) => /^[+-]?\d+$/.test(v),
  float: (v) => NUMBER.test(v) || /^[+-]?(inf|infinity|nan)$/i.test(v),
  "human-int": (v) => /^[+-]?\d+$/.test(v) || /^\d+(\.\d+)?[kmgt]$/.test(v) || /^\d+[KMGT]$/.test(v),
};
const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  float: "a number",
  "human-int": "an integer or a count like 32k",
};

interface Spelling {
  flag: FlagSpec;
  bounds: Bounds;
  negated: boolean;
}

interface Context {
  registry: FlagRegistry;
  label: string;
  version: string | undefined;
  compare: (a: string, b: string) => number;
  spellings: Map<string, Spelling>;
  problems: FlagProblem[];
}

/**
 * Reads `argv` as the engine's parser would and lists every flag or value the engine would refuse:
 * unknown flags, missing values, values outside the choices or of the wrong type, booleans given a
 * value, and (with `version`) flags or values not yet, or no longer, in that release.
 */
export function checkArgv(
  registry: FlagRegistry,
  argv: readonly string[],
  options: CheckArgvOptions,
): FlagProblem[] {
  if (registry.engine !== options.engine) {
    throw new ServepilotError(
      "INTERNAL",
      `the ${registry.engine} flag registry cannot check a ${options.engine} command`,
    );
  }
  if (!Number.isInteger(options.skip) || options.skip < 0) {
    throw new ServepilotError(
      "INTERNAL",
      `checkArgv: skip must be a non-negative integer, got ${options.skip}`,
    );
  }
  const compare =
    registry.engine === "llamacpp"
      ? (a: string, b: string) => parseLlamaCppBuild(a) - parseLlamaCppBuild(b)
      : compareVersions;
  const ctx: Context = {
    registry,
    label: ENGINE_LABEL[registry.engine],
    version: options.version,
    compare,
    spellings: indexSpellings(registry),
    problems: [],
  };
  if (options.version !== undefined && !inVersionRange(registry.versions, options.version, compare)) {
    const message = `${ctx.label} ${options.version} is outside the releases the flag registry covers (${registry.versions})`;
    ctx.problems.push({ code: "version-not-covered", index: -1, arg: options.version, flag: null, message });
  }
  let i = options.skip;
  while (i < argv.length) i = checkItem(ctx, argv, i);
  return ctx.problems;
}

function indexSpellings(registry: FlagRegistry): Map<string, Spelling> {
  const map = new Map<string, Spelling>();
  for (const flag of registry.flags) {
    map.set(flag.name, { flag, bounds: {}, negated: false });
    for (const alias of flag.aliases) map.set(alias.name, { flag, bounds: alias, negated: false });
    for (const neg of flag.negation ?? []) map.set(neg.name, { flag, bounds: neg, negated: true });
  }
  return map;
}

/** An option rather than a value: starts with "-" and is not a negative number. */
function isOption(item: string): boolean {
  return item.length > 1 && item.startsWith("-") && !NUMBER.test(item);
}

/** Checks the item at `i` (and the values it consumes); returns the index of the next item. */
function checkItem(ctx: Context, argv: readonly string[], i: number): number {
  const arg = argv[i] as string;
  const { syntax } = ctx.registry;
  if (!isOption(arg)) {
    report(
      ctx,
      "unexpected-argument",
      i,
      arg,
      null,
      `unexpected argument ${JSON.stringify(arg)}: no flag takes it as a value`,
    );
    return i + 1;
  }
  const eq = arg.indexOf("=");
  const split = syntax.equalsValue && eq > 0;
  let name = split ? arg.slice(0, eq) : arg;
  const inline = split ? arg.slice(eq + 1) : undefined;
  if (syntax.underscoreNames && name.startsWith("--")) {
    const dot = name.indexOf(".");
    name = dot < 0 ? name.replaceAll("_", "-") : name.slice(0, dot).replaceAll("_", "-") + name.slice(dot);
  }
  let spelling = ctx.spellings.get(name);
  let dotted = false;
  if (!spelling && syntax.dottedJsonKeys && name.startsWith("--") && name.includes(".")) {
    const base = ctx.spellings.get(name.slice(0, name.indexOf(".")));
    if (base?.flag.type === "json") [spelling, dotted] = [base, true];
  }
  if (!spelling) {
    let hint = suggest(ctx, name);
    if (!syntax.equalsValue && eq > 0)
      hint = `${ctx.label} does not accept --flag=value; pass the value as the next argument`;
    report(
      ctx,
      "unknown-flag",
      i,
      arg,
      null,
      `${name} is not a ${ctx.label} flag${hint ? ` (${hint})` : ""}`,
    );
    let j = i + 1;
    while (j < argv.length && !isOption(argv[j] as string)) j++; // its values, if any
    return j;
  }
  const { flag } = spelling;
  checkRelease(ctx, flag, flag, i, arg, name === flag.name ? `${flag.name}` : `${name} (${flag.name})`);
  if (name !== flag.name && !dotted) checkRelease(ctx, flag, spelling.bounds, i, arg, name);
  if (spelling.negated || flag.kind === "boolean") {
    const next = argv[i + 1];
    if (inline !== undefined) {
      report(
        ctx,
        "unexpected-value",
        i,
        arg,
        flag.name,
        `${name} is a switch and takes no value (got ${JSON.stringify(inline)})`,
      );
    } else if (next !== undefined && !isOption(next)) {
      report(
        ctx,
        "unexpected-value",
        i + 1,
        next,
        flag.name,
        `${name} is a switch and takes no value (got ${JSON.stringify(next)})`,
      );
      return i + 2;
    }
    return i + 1;
  }
  const values: Array<[string, number]> = inline !== undefined ? [[inline, i]] : [];
  let j = i + 1;
  if (inline === undefined) {
    const takes = (item: string) => !isOption(item) || (syntax.greedyValues && flag.nargs === undefined);
    while (j < argv.length && takes(argv[j] as string)) {
      values.push([argv[j] as string, j]);
      j++;
      if (flag.nargs === undefined || flag.nargs === "?") break;
    }
  }
  if (values.length === 0 && flag.nargs !== "?" && flag.nargs !== "*") {
    report(ctx, "missing-value", i, arg, flag.name, `${name} needs a value${describeValues(ctx, flag)}`);
  }
  if (!dotted) for (const [value, at] of values) checkValue(ctx, flag, value, at);
  return j;
}

/** Why `b` (a flag, spelling or value) is missing from the targeted release; null when it is there. */
function absence(ctx: Context, b: Bounds, what: string): Pick<FlagProblem, "code" | "message"> | null {
  const { version, compare, label } = ctx;
  if (version === undefined) return null;
  if (b.since !== undefined && compare(version, b.since) < 0) {
    return {
      code: "not-yet-available",
      message: `${what} is not in ${label} ${version}; it needs ${b.since} or newer`,
    };
  }
  if (b.until !== undefined && compare(version, b.until) >= 0) {
    return {
      code: "no-longer-available",
      message: `${what} was removed in ${label} ${b.until} (target ${version})`,
    };
  }
  return null;
}

const available = (ctx: Context, b: Bounds): boolean => absence(ctx, b, "") === null;

function checkRelease(
  ctx: Context,
  flag: FlagSpec,
  b: Bounds,
  index: number,
  arg: string,
  what: string,
): void {
  const missing = absence(ctx, b, what);
  if (missing) ctx.problems.push({ ...missing, index, arg, flag: flag.name });
}

function checkValue(ctx: Context, flag: FlagSpec, value: string, index: number): void {
  const what = `${flag.name} ${value}`;
  const keyword = flag.keywords?.find((k) => k.value === value);
  if (keyword) {
    checkRelease(ctx, flag, keyword, index, value, what);
    return;
  }
  if (flag.choices) {
    const choice = flag.choices.find((c) => c.value === value);
    if (choice) {
      checkRelease(ctx, flag, choice, index, value, what);
      return;
    }
    const open = flag.choicesUntil !== undefined && available(ctx, { since: flag.choicesUntil });
    if (!open) {
      const message = `${flag.name}: ${JSON.stringify(value)} is not accepted by ${ctx.label}${describeValues(ctx, flag)}`;
      report(ctx, "invalid-choice", index, value, flag.name, message);
      return;
    }
  }
  const test = TYPE_TESTS[flag.type ?? "string"];
  if (test && !test(value)) {
    const message = `${flag.name}: ${JSON.stringify(value)} is not ${TYPE_NAMES[flag.type ?? "string"]}`;
    report(ctx, "invalid-value", index, value, flag.name, message);
  }
}

/** " (one of a, b, c)" for the values available in the targeted release. */
function describeValues(ctx: Context, flag: FlagSpec): string {
  const words = [...(flag.choices ?? []), ...(flag.keywords ?? [])]
    .filter((c) => available(ctx, c))
    .map((c) => c.value);
  if (flag.choices && !(flag.choicesUntil && available(ctx, { since: flag.choicesUntil })))
    return ` (one of ${words.join(", ")})`;
  const type = TYPE_NAMES[flag.type ?? ""];
  return type ? ` (${type}${words.length ? ` or ${words.join(", ")}` : ""})` : "";
}

/** "did you mean --x?" for a close spelling (edit distance at most 2). */
function suggest(ctx: Context, name: string): string {
  let best: [string, number] = ["", 3];
  for (const candidate of ctx.spellings.keys()) {
    const d = editDistance(name, candidate);
    if (d < best[1]) best = [candidate, d];
  }
  return best[0] ? `did you mean ${best[0]}?` : "";
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

function report(
  ctx: Context,
  code: FlagProblemCode,
  index: number,
  arg: string,
  flag: string | null,
  message: string,
): void {
  ctx.problems.push({ code, index, arg, flag, message });
}
