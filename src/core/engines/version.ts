import { ServepilotError } from "../errors.js";

/** A release number like "0.11.0" as a comparable tuple; "0.9" reads as 0.9.0. */
export function parseVersion(text: string, flag = "--engine-version"): [number, number, number] {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[.+-].*)?$/.exec(text.trim());
  if (!match) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${flag} must be a release number like 0.11.0, got ${JSON.stringify(text)}`,
    );
  }
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  for (let i = 0; i < 3; i++) {
    const diff = (x[i] ?? 0) - (y[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The entry whose `from` is the highest not above `version` (entries describe changes from a release on). */
export function selectByVersion<T extends { from: string }>(
  entries: readonly T[],
  version: string,
  what: string,
): T {
  const sorted = [...entries].sort((a, b) => compareVersions(a.from, b.from));
  const oldest = sorted[0];
  if (!oldest) throw new ServepilotError("INVALID_DATA_FILE", `no ${what} version data is loaded`);
  if (compareVersions(version, oldest.from) < 0) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--engine-version ${version} is older than the oldest ${what} release servepilot models (${oldest.from})`,
      { hint: `use ${oldest.from} or newer` },
    );
  }
  return sorted.filter((entry) => compareVersions(entry.from, version) <= 0).at(-1) as T;
}
