/**
 * Glob patterns for --include / --exclude, with the semantics of huggingface_hub's
 * allow_patterns / ignore_patterns (Python fnmatch): `*` matches any run of characters, `/`
 * included; `?` one character; `[abc]`, `[a-z]` and `[!abc]` a character class. A pattern that
 * ends with `/` matches everything under that folder. Matching is case-sensitive.
 * Source: https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/utils/_paths.py
 */

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/** Compiles one pattern to an anchored regular expression. */
export function compileGlob(pattern: string): RegExp {
  const source = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let out = "";
  for (let i = 0; i < source.length; i++) {
    const char = source[i] as string;
    if (char === "*") {
      out += ".*";
    } else if (char === "?") {
      out += ".";
    } else if (char === "[") {
      const close = source.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let body = source.slice(i + 1, close);
      const negated = body.startsWith("!");
      if (negated) body = body.slice(1);
      out += `[${negated ? "^" : ""}${body.replace(/\\/g, "\\\\").replace(/\^/g, "\\^")}]`;
      i = close;
    } else {
      out += escapeRegExp(char);
    }
  }
  return new RegExp(`^${out}$`, "s");
}

export interface FileFilter {
  include: readonly string[];
  exclude: readonly string[];
}

/** A path is kept when it matches an include pattern (or none were given) and no exclude pattern. */
export function createFileFilter(filter: FileFilter): (path: string) => boolean {
  const include = filter.include.map(compileGlob);
  const exclude = filter.exclude.map(compileGlob);
  return (path) =>
    (include.length === 0 || include.some((re) => re.test(path))) && !exclude.some((re) => re.test(path));
}
