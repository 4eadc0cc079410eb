import { ServepilotError } from "../errors.js";
import type { LlamaCppSpec } from "./llamacpp-spec.js";
import type { SglangSpec } from "./sglang-spec.js";
import { compareVersions } from "./version.js";

// Release selection for SGLang and llama.cpp data, apart from the zod schemas so that planning does
// not load zod at start-up (the compiled catalog is already validated).

/** Whether `version` satisfies a range of space-separated comparators (">=0.5.3 <0.5.9"). */
export function inVersionRange(
  range: string,
  version: string,
  compare: (a: string, b: string) => number,
): boolean {
  return range
    .trim()
    .split(/\s+/)
    .every((term) => {
      const match = /^(>=|<=|>|<|=)?(.+)$/.exec(term);
      if (!match?.[2]) return false;
      const diff = compare(version, match[2]);
      switch (match[1]) {
        case ">=":
          return diff >= 0;
        case ">":
          return diff > 0;
        case "<=":
          return diff <= 0;
        case "<":
          return diff < 0;
        default:
          return diff === 0;
      }
    });
}

/** The entry whose `versions` range holds an SGLang release ("0.5.4", "v0.5.6.post2"). */
export function selectSglangSpec(specs: readonly SglangSpec[], version: string): SglangSpec {
  const found = specs.find((s) => inVersionRange(s.versions, version, compareVersions));
  if (!found) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--engine-version ${version}: servepilot has no SGLang memory data for it (covered: ${specs.map((s) => s.versions).join(", ")})`,
    );
  }
  return found;
}

/** Build number of a llama.cpp release tag: "b7475" -> 7475 (what `llama-server --version` prints as "version: 7475"). */
export function parseLlamaCppBuild(text: string): number {
  const match = /^b?(\d+)$/.exec(text.trim());
  if (!match) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--engine-version must be a llama.cpp build like b7475, got ${JSON.stringify(text)}`,
    );
  }
  return Number(match[1]);
}

/** The entry whose `versions` range holds a llama.cpp build ("b7475" or "7475"). */
export function selectLlamaCppSpec(specs: readonly LlamaCppSpec[], build: string): LlamaCppSpec {
  const compare = (a: string, b: string) => parseLlamaCppBuild(a) - parseLlamaCppBuild(b);
  parseLlamaCppBuild(build);
  const found = specs.find((s) => inVersionRange(s.versions, build, compare));
  if (!found) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--engine-version ${build}: servepilot has no llama.cpp memory data for it (covered: ${specs.map((s) => s.versions).join(", ")})`,
    );
  }
  return found;
}
