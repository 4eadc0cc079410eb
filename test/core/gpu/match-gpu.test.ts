import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import {
  type GpuCatalogEntry,
  matchDetectedGpu,
  matchGpu,
  suggestGpus,
} from "../../../src/core/gpu/index.js";
import { loadBuiltinGpus } from "./builtin-catalog.js";

const catalog = loadBuiltinGpus();

function entryOf(id: string): GpuCatalogEntry {
  const entry = catalog.find((e) => e.id === id);
  if (!entry) throw new Error(`test setup: no catalog entry ${id}`);
  return entry;
}

function thrownBy(run: () => unknown): ServepilotError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServepilotError) return error;
    throw error;
  }
  throw new Error("expected a ServepilotError, nothing was thrown");
}

describe("matchGpu", () => {
  it.each([
    ["H100", "h100-sxm", "alias"],
    ["h100-sxm", "h100-sxm", "id"],
    ["NVIDIA H100 80GB HBM3", "h100-sxm", "alias"],
    ["nvidia h100 80gb hbm3", "h100-sxm", "alias"],
    ["H100 NVL", "h100-nvl", "alias"],
    ["NVIDIA H100 NVL", "h100-nvl", "alias"],
    ["NVIDIA H100 PCIe", "h100-pcie", "alias"],
    ["H20", "h20", "id"],
    ["H200", "h200", "id"],
    ["A10", "a10", "id"],
    ["A10G", "a10g", "id"],
    ["A100", "a100-sxm4-80gb", "alias"],
    ["NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb", "alias"],
    ["NVIDIA A100-SXM4-40GB", "a100-sxm4-40gb", "alias"],
    ["NVIDIA A100-PCIE-40GB", "a100-pcie-40gb", "alias"],
    ["NVIDIA A100 80GB PCIe", "a100-pcie-80gb", "alias"],
    ["A100-80G", "a100-sxm4-80gb", "alias"],
    ["L40", "l40", "id"],
    ["L40S", "l40s", "id"],
    ["Tesla T4", "t4", "alias"],
    ["NVIDIA GeForce RTX 4090", "rtx-4090", "name"],
    ["4090", "rtx-4090", "alias"],
    ["MI300X", "mi300x", "id"],
    ["AMD Instinct MI300X", "mi300x", "name"],
    ["AMD Instinct MI250X/MI250", "mi250x", "alias"],
    ["mi308x", "mi308x", "id"],
  ])("%s -> %s (by %s)", (query, id, kind) => {
    const match = matchGpu(query, catalog);
    expect(match.entry.id).toBe(id);
    expect(match.matchedBy).toBe(kind);
  });

  it.each([
    ["l40-s", "l40s"],
    ["NVIDIA L40 S", "l40s"],
    ["geforce rtx-4090", "rtx-4090"],
    ["RTX-4090", "rtx-4090"],
    ["80GB A100", "a100-sxm4-80gb"],
    ["a100 80g", "a100-sxm4-80gb"],
    ["nvidia_h100_nvl", "h100-nvl"],
    ["AMD MI300X", "mi300x"],
    ["Instinct MI-355X", "mi355x"],
    ["RTX-PRO-6000 Blackwell Server Edition", "rtx-pro-6000-blackwell-server"],
  ])("normalizes %s -> %s", (query, id) => {
    const match = matchGpu(query, catalog);
    expect(match.entry.id).toBe(id);
    expect(match.matchedBy).not.toBe("alias");
  });

  it("never turns one product into a neighbour", () => {
    expect(matchGpu("H20", catalog).entry.id).not.toBe("h200");
    expect(matchGpu("NVIDIA H20", catalog).entry.id).toBe("h20");
    expect(matchGpu("A10", catalog).entry.id).not.toMatch(/^a100|^a10g$/);
    expect(matchGpu("L40", catalog).entry.id).toBe("l40");
    expect(matchGpu("H100 NVL", catalog).entry.memory.marketedGB).toBe(94);
    expect(matchGpu("NVIDIA A100-SXM4-80GB", catalog).entry).toMatchObject({ formFactor: "sxm" });
    expect(matchGpu("NVIDIA A100-SXM4-80GB", catalog).entry.memory.marketedGB).toBe(80);
  });

  it("resolves every id, name and alias of the catalog to its own entry, in any case or punctuation", () => {
    for (const entry of catalog) {
      for (const spelling of [entry.id, entry.name, ...entry.aliases]) {
        expect(matchGpu(spelling, catalog).entry.id, spelling).toBe(entry.id);
        expect(matchGpu(spelling.toUpperCase(), catalog).entry.id, spelling.toUpperCase()).toBe(entry.id);
        const dashed = spelling.replace(/[\s/]+/g, "-");
        expect(matchGpu(dashed, catalog).entry.id, dashed).toBe(entry.id);
      }
    }
  });

  it("rejects an unknown name with the closest catalog names", () => {
    const error = thrownBy(() => matchGpu("H300", catalog));
    expect(error.code).toBe("UNKNOWN_GPU");
    const details = error.details as { query: string; suggestions: string[] };
    expect(details.query).toBe("H300");
    expect(details.suggestions.length).toBeGreaterThanOrEqual(3);
    expect(details.suggestions.length).toBeLessThanOrEqual(5);
    expect(details.suggestions).toEqual(
      expect.arrayContaining([entryOf("h100-sxm").name, entryOf("h200").name]),
    );
    for (const name of details.suggestions) expect(error.message).toContain(name);
    expect(error.message).toContain('"H300"');
  });

  it.each(["B300X", "MI400X", "RTX 9090", "gaming laptop"])("rejects %s as UNKNOWN_GPU", (query) => {
    expect(thrownBy(() => matchGpu(query, catalog)).code).toBe("UNKNOWN_GPU");
  });

  it("rejects an empty name as an invalid argument", () => {
    expect(thrownBy(() => matchGpu("   ", catalog)).code).toBe("INVALID_ARGUMENT");
  });

  it("refuses to choose when a user catalog gives two entries the same alias", () => {
    const clash = [
      { ...entryOf("h100-sxm"), aliases: ["big-gpu"] },
      { ...entryOf("h200"), aliases: ["big-gpu"] },
    ];
    const error = thrownBy(() => matchGpu("big-gpu", clash));
    expect(error.code).toBe("UNKNOWN_GPU");
    expect(error.message).toContain("h100-sxm");
    expect(error.message).toContain("h200");
    expect(matchGpu("h200", clash).entry.id).toBe("h200");
  });

  it("suggests by edit distance and shared tokens", () => {
    expect(suggestGpus("MI300", catalog).map((e) => e.id)).toEqual(
      expect.arrayContaining(["mi300x", "mi300a"]),
    );
    expect(suggestGpus("rtx 4080", catalog)[0]?.id).toBe("rtx-4090");
  });
});

describe("matchDetectedGpu", () => {
  it.each([
    ["NVIDIA H100 80GB HBM3", 81559, "h100-sxm"],
    ["NVIDIA H100 NVL", 95830, "h100-nvl"],
    ["NVIDIA H100 80GB HBM3", 95830, "h100-nvl"],
    ["NVIDIA A100-PCIE", 81920, "a100-pcie-80gb"],
    ["NVIDIA A100-PCIE", 40960, "a100-pcie-40gb"],
    ["NVIDIA A100-SXM4-80GB", 81920, "a100-sxm4-80gb"],
    ["NVIDIA GH200 480GB", 97871, "gh200-96gb"],
    ["NVIDIA GeForce RTX 4090", 24564, "rtx-4090"],
    ["Tesla V100-SXM2-16GB", 16160, "v100-sxm2-16gb"],
    ["AMD Instinct MI300X", 196592, "mi300x"],
    ["AMD Instinct MI308X", 196592, "mi308x"],
    ["AMD Instinct MI325X", 262128, "mi325x"],
    ["AMD Instinct MI250X/MI250", 65520, "mi250x"],
    ["Radeon RX 7900 XTX", 24560, "radeon-rx-7900-xtx"],
    ["AMD Instinct MI300A", 512, "mi300a"],
  ])("%s with %i MiB -> %s", (name, memoryMiB, id) => {
    expect(matchDetectedGpu(name, memoryMiB, catalog)?.entry.id).toBe(id);
  });

  it("uses the memory size only to choose among the name's candidates", () => {
    expect(matchDetectedGpu("NVIDIA A100-PCIE", 81920, catalog)?.matchedBy).toBe("partial");
    expect(matchDetectedGpu("NVIDIA H100 80GB HBM3", null, catalog)?.entry.id).toBe("h100-sxm");
  });

  it.each([
    ["NVIDIA A100-PCIE", null, "ambiguous without memory"],
    ["AMD Instinct MI300X", 262128, "memory contradicts the name"],
    ["Tesla T4", 8000, "a vGPU slice"],
    ["NVIDIA H300", 81559, "unknown model"],
    ["Intel Arc A770", 16384, "unknown vendor"],
    ["", 81920, "empty name"],
  ] as const)("returns null for %s (%s MiB): %s", (name, memoryMiB, _why) => {
    expect(matchDetectedGpu(name, memoryMiB, catalog)).toBeNull();
  });

  it("finds every entry from its own name or aliases and its own memory size", () => {
    for (const entry of catalog) {
      const memoryMiB = entry.memory.smiTotalMiB ?? Math.round(entry.memory.runtimeGiB * 1024);
      for (const spelling of [entry.name, ...entry.aliases]) {
        expect(matchDetectedGpu(spelling, memoryMiB, catalog)?.entry.id, spelling).toBe(entry.id);
      }
    }
  });
});
