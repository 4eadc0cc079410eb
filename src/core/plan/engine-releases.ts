import { parseLlamaCppBuild } from "../engines/select-release.js";
import { compareVersions } from "../engines/version.js";
import type { EngineName } from "../memory/types.js";
import { type EngineSpecs, resolveEngineData } from "./build-plan.js";

/** One block of engine data: the releases it covers and where its facts come from. */
export interface EngineRelease {
  id: string;
  /** The releases it covers, as a range (">=0.11.0 <0.12.0"; vLLM's open range is ">=0.12.0"). */
  versions: string;
  /** The first release it covers: a valid `engineVersion` that selects this block. */
  earliest: string;
  /** vLLM: the newest release known to behave like this block (documentation); null elsewhere. */
  checkedThrough: string | null;
  source: string;
  notes: string | null;
}

export interface EngineReleases {
  engine: EngineName;
  /** The release a plan models when no `engineVersion` is given. */
  defaultVersion: string;
  /** Newest first. */
  releases: EngineRelease[];
}

/** The lower bound of a range (">=b6981 <b7444" -> "b6981"). */
function lowerBound(range: string): string {
  return /(?:^|\s)>=\s*(\S+)/.exec(range)?.[1] ?? range;
}

/**
 * The engine releases servepilot has memory data for, per engine: what `engineVersion` may name and
 * which release a plan uses by default (resolveEngineData, the same choice the planner makes).
 */
export function engineReleases(specs: EngineSpecs): EngineReleases[] {
  const vllm = [...specs.vllm].sort((a, b) => compareVersions(b.from, a.from));
  const byBuild = (a: EngineRelease, b: EngineRelease) =>
    parseLlamaCppBuild(b.earliest) - parseLlamaCppBuild(a.earliest);
  const byVersion = (a: EngineRelease, b: EngineRelease) => compareVersions(b.earliest, a.earliest);
  const ranged = (list: EngineSpecs["sglang"] | EngineSpecs["llamacpp"]): EngineRelease[] =>
    list.map((spec) => ({
      id: spec.id,
      versions: spec.versions,
      earliest: lowerBound(spec.versions),
      checkedThrough: null,
      source: spec.source,
      notes: spec.notes ?? null,
    }));
  return [
    {
      engine: "vllm",
      defaultVersion: resolveEngineData("vllm", null, specs).version,
      releases: vllm.map((spec, index) => {
        const newer = vllm[index - 1];
        // a vLLM block applies from its release until the next block's (selectByVersion)
        return {
          id: spec.id,
          versions: newer ? `>=${spec.from} <${newer.from}` : `>=${spec.from}`,
          earliest: spec.from,
          checkedThrough: spec.through ?? null,
          source: spec.source,
          notes: spec.notes ?? null,
        };
      }),
    },
    {
      engine: "sglang",
      defaultVersion: resolveEngineData("sglang", null, specs).version,
      releases: ranged(specs.sglang).sort(byVersion),
    },
    {
      engine: "llamacpp",
      defaultVersion: resolveEngineData("llamacpp", null, specs).version,
      releases: ranged(specs.llamacpp).sort(byBuild),
    },
  ];
}
