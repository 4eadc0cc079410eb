import { describe, expect, it } from "vitest";
import { resolveEngineData } from "../../../src/core/plan/build-plan.js";
import { engineReleases } from "../../../src/core/plan/engine-releases.js";
import { loadEngineCatalog } from "../../../src/runtime/catalog/engine-catalog.js";

const specs = await loadEngineCatalog();
const listed = engineReleases(specs);

/** The id of the data block the planner uses for an engine version. */
function selected(engine: "vllm" | "sglang" | "llamacpp", version: string | null): string {
  const { data } = resolveEngineData(engine, version, specs);
  return data.spec.id;
}

describe("engine releases the planner models", () => {
  it("lists every block of every engine, newest first, each with its source", () => {
    expect(listed.map((e) => e.engine)).toEqual(["vllm", "sglang", "llamacpp"]);
    for (const entry of listed) {
      const ids = entry.releases.map((r) => r.id);
      expect(new Set(ids)).toEqual(new Set(specs[entry.engine].map((s) => s.id)));
      for (const release of entry.releases) expect(release.source).toMatch(/^https:\/\//);
    }
    // newest first: the first block is the one a plan without engineVersion uses
    for (const entry of listed) {
      expect(selected(entry.engine, null)).toBe(entry.releases[0]?.id);
    }
  });

  it("each block's earliest release selects that block, and the default is what a plan uses", () => {
    for (const entry of listed) {
      for (const release of entry.releases) {
        expect(selected(entry.engine, release.earliest), `${entry.engine} ${release.earliest}`).toBe(
          release.id,
        );
      }
      expect(resolveEngineData(entry.engine, null, specs).version).toBe(entry.defaultVersion);
    }
  });

  it("a vLLM block covers the releases up to the next block's first", () => {
    const vllm = listed[0]?.releases ?? [];
    for (const [index, release] of vllm.entries()) {
      const newer = vllm[index - 1];
      expect(release.versions).toBe(
        newer ? `>=${release.earliest} <${newer.earliest}` : `>=${release.earliest}`,
      );
    }
    // a release between a block's documented newest and the next block still selects the older block
    const block = vllm.find((r) => r.id === "vllm-0.11.0");
    expect(block?.checkedThrough).toBe("0.17.1");
    expect(selected("vllm", "0.19.0")).toBe("vllm-0.11.0");
  });
});
