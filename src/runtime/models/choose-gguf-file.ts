/** Quantizations picked first when a repo or directory offers several (a common default trade-off). */
const PREFERRED_QUANTS = ["Q4_K_M", "Q4_K_S", "Q5_K_M", "Q6_K", "Q8_0"];

export type GgufChoice =
  | { kind: "chosen"; file: string; shardFiles: string[] }
  | { kind: "none" }
  | { kind: "no-match"; available: string[] };

function isModelGguf(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  // Vision projectors and importance matrices are GGUF files too, but not the language model.
  return /\.gguf$/i.test(name) && !/mmproj|imatrix/i.test(name);
}

/**
 * Shard names as llama.cpp's gguf-split writes them: `<prefix>-00001-of-00003.gguf`
 * (examples/gguf-split/gguf-split.cpp, split_path format "%s-%05d-of-%05d.gguf").
 */
function parseShardName(path: string): { prefix: string; total: string } | null {
  const match = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i.exec(path);
  return match ? { prefix: match[1] as string, total: match[3] as string } : null;
}

/** The first shard (or the only file) of each GGUF model file set, with all of its files. */
function groupShards(paths: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const path of [...paths].sort()) {
    const shard = parseShardName(path);
    const key = shard ? `${shard.prefix}-00001-of-${shard.total}.gguf` : path;
    groups.set(key, [...(groups.get(key) ?? []), path]);
  }
  return groups;
}

function quantRank(path: string): number {
  const index = PREFERRED_QUANTS.findIndex((quant) => path.toUpperCase().includes(quant));
  return index === -1 ? PREFERRED_QUANTS.length : index;
}

/**
 * Picks the GGUF file to read among `paths` (repo-relative or directory-relative). `preferred`
 * is a path, a file name, or a fragment such as a quantization label ("Q8_0").
 */
export function chooseGgufFile(paths: readonly string[], preferred?: string): GgufChoice {
  const groups = groupShards(paths.filter(isModelGguf));
  if (groups.size === 0) return { kind: "none" };
  let keys = [...groups.keys()];
  if (preferred) {
    const wanted = preferred.toLowerCase();
    keys = keys.filter((key) => (groups.get(key) ?? []).some((path) => path.toLowerCase().includes(wanted)));
    if (keys.length === 0) return { kind: "no-match", available: [...groups.keys()] };
  }
  keys.sort((a, b) => quantRank(a) - quantRank(b) || a.localeCompare(b));
  const file = keys[0] as string;
  return { kind: "chosen", file, shardFiles: groups.get(file) ?? [file] };
}
