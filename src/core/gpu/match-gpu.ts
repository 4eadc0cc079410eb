import { ServepilotError } from "../errors.js";
import type { GpuCatalogEntry, GpuSpec } from "./gpu-spec.js";

/** How a query found its catalog entry. */
export type GpuMatchKind = "id" | "name" | "alias" | "normalized";

/**
 * How a detected device name found its entry: the kinds of `matchGpu`, or "partial" when the name
 * only narrowed the catalog to a family (e.g. "NVIDIA A100-PCIE") and the memory size picked the entry.
 */
export type DetectedGpuMatchKind = GpuMatchKind | "partial";

export interface GpuMatch<T extends GpuSpec = GpuCatalogEntry, K extends string = GpuMatchKind> {
  entry: T;
  matchedBy: K;
  /** The catalog spelling (id, name or alias) that matched; for "partial", the entry's name. */
  matchedText: string;
}

/** Words that say who made a GPU, not which GPU it is; dropped before comparing names. */
const BRAND_WORDS = new Set(["nvidia", "amd", "tesla", "geforce", "instinct", "radeon"]);

/** A detected memory size this close (relative) to an entry's figures counts as that entry. */
const MEMORY_TOLERANCE = 0.06;
const MAX_SUGGESTIONS = 5;

/**
 * Splits a GPU name into comparable tokens: lower case, punctuation and brand words dropped,
 * "80G" / "80GiB" written as "80gb". "NVIDIA A100-SXM4-80GB" -> ["a100", "sxm4", "80gb"].
 */
export function tokenizeGpuName(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((token) => token !== "" && !BRAND_WORDS.has(token))
    .map((token) => token.replace(/^(\d+)(?:g|gib)$/, "$1gb"));
}

/** Two spellings are the same product when their tokens, joined in order or sorted, are equal. */
function nameKeys(text: string): { compact: string; sorted: string } {
  const tokens = tokenizeGpuName(text);
  return { compact: tokens.join(""), sorted: [...tokens].sort().join(" ") };
}

function spellingsOf(entry: GpuSpec): { kind: "id" | "name" | "alias"; text: string }[] {
  return [
    { kind: "id", text: entry.id },
    { kind: "name", text: entry.name },
    ...entry.aliases.map((text) => ({ kind: "alias" as const, text })),
  ];
}

/** Keeps the first match of each entry (an entry can match by id and by alias). */
function uniqueEntries<T extends GpuSpec, K extends string>(matches: GpuMatch<T, K>[]): GpuMatch<T, K>[] {
  const seen = new Set<string>();
  return matches.filter((match) => {
    if (seen.has(match.entry.id)) return false;
    seen.add(match.entry.id);
    return true;
  });
}

/** Exact (case-insensitive) id, name or alias matches, ids first, then names, then aliases. */
function findExactMatches<T extends GpuSpec>(query: string, catalog: readonly T[]): GpuMatch<T>[] {
  const wanted = query.trim().toLowerCase();
  const matches: GpuMatch<T>[] = [];
  for (const kind of ["id", "name", "alias"] as const) {
    for (const entry of catalog) {
      const spelling = spellingsOf(entry).find((s) => s.kind === kind && s.text.toLowerCase() === wanted);
      if (spelling) matches.push({ entry, matchedBy: kind, matchedText: spelling.text });
    }
  }
  return uniqueEntries(matches);
}

/** Matches after normalization: same tokens in the same order, or the same set of tokens. */
function findNormalizedMatches<T extends GpuSpec>(query: string, catalog: readonly T[]): GpuMatch<T>[] {
  const wanted = nameKeys(query);
  if (wanted.compact === "") return [];
  const matches: GpuMatch<T>[] = [];
  for (const entry of catalog) {
    const spelling = spellingsOf(entry).find(({ text }) => {
      const keys = nameKeys(text);
      return keys.compact === wanted.compact || keys.sorted === wanted.sorted;
    });
    if (spelling) matches.push({ entry, matchedBy: "normalized", matchedText: spelling.text });
  }
  return uniqueEntries(matches);
}

function describeEntry(entry: GpuSpec): string {
  return `${entry.name} (${entry.id})`;
}

/**
 * Resolves a GPU name the user typed ("H100", "a100-80gb", "NVIDIA A100-SXM4-80GB", "mi300x") to one
 * catalog entry: exact id, name or alias first (case-insensitive), then a normalized comparison that
 * ignores brand words, punctuation, spacing and token order. Never guesses across products: "H20" is
 * not "H200" and "L40" is not "L40S". Throws UNKNOWN_GPU, listing the closest names, when nothing
 * matches or when a name fits several entries.
 */
export function matchGpu<T extends GpuSpec = GpuCatalogEntry>(
  query: string,
  catalog: readonly T[],
): GpuMatch<T> {
  if (query.trim() === "") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      'GPU name is empty: expected a catalog id or name such as "h100-sxm".',
    );
  }
  for (const matches of [findExactMatches(query, catalog), findNormalizedMatches(query, catalog)]) {
    const [first, second] = matches;
    if (first && (second === undefined || first.matchedBy === "id")) return first;
    if (first) {
      const names = matches.map((match) => match.entry.name);
      throw new ServepilotError(
        "UNKNOWN_GPU",
        `GPU "${query}" matches several catalog entries: ${matches.map((m) => describeEntry(m.entry)).join(", ")}. ` +
          "Use the id of the one you mean.",
        { details: { query, suggestions: names } },
      );
    }
  }
  const suggestions = suggestGpus(query, catalog);
  throw new ServepilotError(
    "UNKNOWN_GPU",
    `Unknown GPU "${query}". Closest catalog GPUs: ${suggestions.map(describeEntry).join(", ")}.`,
    {
      hint: "Run `servepilot gpus` to list the catalog, add the GPU as a YAML file in <data-dir>/gpus/, or give its memory size with --gpu-memory.",
      details: { query, suggestions: suggestions.map((entry) => entry.name) },
    },
  );
}

/** Levenshtein distance between two short strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Closeness of a query to one spelling, 0 (unrelated) to 1 (same): edit distance and shared tokens. */
function similarity(query: string, spelling: string): number {
  const a = nameKeys(query);
  const b = nameKeys(spelling);
  const longest = Math.max(a.compact.length, b.compact.length, 1);
  const byEdits = 1 - editDistance(a.compact, b.compact) / longest;
  const queryTokens = new Set(tokenizeGpuName(query));
  const spellingTokens = new Set(tokenizeGpuName(spelling));
  const shared = [...queryTokens].filter((token) => spellingTokens.has(token)).length;
  const union = new Set([...queryTokens, ...spellingTokens]).size;
  return 0.7 * byEdits + 0.3 * (union === 0 ? 0 : shared / union);
}

/** The catalog entries whose names are closest to `query`, best first (at most 5). */
export function suggestGpus<T extends GpuSpec>(query: string, catalog: readonly T[]): T[] {
  return catalog
    .map((entry, index) => ({
      entry,
      index,
      score: Math.max(...spellingsOf(entry).map(({ text }) => similarity(query, text))),
    }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, MAX_SUGGESTIONS)
    .map(({ entry }) => entry);
}

/** Relative distance between a detected size (MiB) and the closest of an entry's memory figures. */
function memoryDistance(entry: GpuSpec, memoryMiB: number): number {
  const { smiTotalMiB, runtimeGiB, marketedGB } = entry.memory;
  const expected = [runtimeGiB * 1024, (marketedGB * 1e9) / 2 ** 20, marketedGB * 1024];
  if (smiTotalMiB !== null) expected.push(smiTotalMiB);
  return Math.min(...expected.map((mib) => Math.abs(memoryMiB - mib) / mib));
}

/** APUs share memory with the CPU, so tools report sizes unrelated to the HBM: never reject them. */
function memoryFits(entry: GpuSpec, memoryMiB: number): boolean {
  return entry.formFactor === "apu" || memoryDistance(entry, memoryMiB) <= MEMORY_TOLERANCE;
}

function closestByMemory<T extends GpuSpec, K extends string>(
  matches: GpuMatch<T, K>[],
  memoryMiB: number,
): GpuMatch<T, K> | null {
  const fitting = matches.filter((match) => memoryFits(match.entry, memoryMiB));
  fitting.sort((a, b) => memoryDistance(a.entry, memoryMiB) - memoryDistance(b.entry, memoryMiB));
  return fitting[0] ?? null;
}

/** Entries whose spellings contain every token of the name, e.g. "A100 PCIe" -> both A100 PCIe sizes. */
function findPartialMatches<T extends GpuSpec>(tokens: string[], catalog: readonly T[]) {
  if (!tokens.some((token) => /\d/.test(token))) return [];
  return catalog
    .filter((entry) =>
      spellingsOf(entry).some(({ text }) => {
        const entryTokens = new Set(tokenizeGpuName(text));
        return tokens.every((token) => entryTokens.has(token));
      }),
    )
    .map(
      (entry): GpuMatch<T, DetectedGpuMatchKind> => ({
        entry,
        matchedBy: "partial",
        matchedText: entry.name,
      }),
    );
}

/**
 * Resolves a device name printed by nvidia-smi / amd-smi / rocm-smi, using its memory size (MiB, as
 * the tool prints it) to choose among entries the name alone cannot separate ("NVIDIA A100-PCIE" ->
 * 40 or 80 GB) and to reject a name whose memory contradicts it (then the name's model number, e.g.
 * "h100", is searched for an entry that fits). Returns null, never throws, when nothing fits: the
 * caller can then describe the device from its memory alone.
 */
export function matchDetectedGpu<T extends GpuSpec = GpuCatalogEntry>(
  name: string,
  memoryMiB: number | null,
  catalog: readonly T[],
): GpuMatch<T, DetectedGpuMatchKind> | null {
  const tokens = tokenizeGpuName(name);
  if (tokens.length === 0) return null;
  const known = memoryMiB !== null && Number.isFinite(memoryMiB) && memoryMiB > 0 ? memoryMiB : null;
  const byName: GpuMatch<T, DetectedGpuMatchKind>[] = findExactMatches(name, catalog);
  const candidates = byName.length > 0 ? byName : findNormalizedMatches(name, catalog);
  if (candidates.length > 0) {
    if (known === null) return candidates.length === 1 ? (candidates[0] ?? null) : null;
    const fitting = closestByMemory(candidates, known);
    if (fitting) return fitting;
  }
  const partial = findPartialMatches(tokens, catalog);
  if (candidates.length === 0 && partial.length > 0) {
    if (known === null) return partial.length === 1 ? (partial[0] ?? null) : null;
    const fitting = closestByMemory(partial, known);
    if (fitting) return fitting;
  }
  if (known === null) return null;
  const model = tokens.find((token) => /\d/.test(token) && !/^\d+gb$/.test(token));
  return model === undefined ? null : closestByMemory(findPartialMatches([model], catalog), known);
}
